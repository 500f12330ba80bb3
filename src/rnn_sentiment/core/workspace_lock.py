"""While a stage runs under DVC, it holds DVC's own repository lock for its workspace.

DVC releases that lock (``.dvc/tmp/lock``, an ``flock`` taken through zc.lockfile) while a stage's
command runs. A second ``dvc exp run`` started meanwhile in the same workspace gets through, sets
up its experiment, fails on the stage's busy outputs, and its clean-up deletes the experiment refs
(``refs/exps/exec/*``) the first run still needs: the first then fails at its commit with
``'NoneType' object is not subscriptable`` and is missing from ``dvc exp list``
(treeverse/dvc#9842). Holding the lock makes the second command refuse ("Unable to acquire lock")
before it touches anything, and the first completes.

Every stage takes it first thing in ``cli.run``, and the process keeps it until it exits.
Best effort: outside a DVC stage, without the lock file (``core.hardlink_lock``), or while another
DVC command holds it, the stage runs without it.
"""

import fcntl
import os
from pathlib import Path
from typing import IO

_held: list[IO] = []


def hold_while_a_stage_runs() -> None:
    root = os.environ.get("DVC_ROOT")
    if not root or "DVC_STAGE" not in os.environ or _held:
        return
    try:
        handle = open(Path(root, ".dvc", "tmp", "lock"), "r+")  # DVC's file: never created here
    except OSError:
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return
    _held.append(handle)
