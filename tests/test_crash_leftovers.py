"""A stage killed mid-write leaves nothing `git add -A` would commit, and its next run cleans up.

The kill is a real SIGKILL to the real encode stage, sent while its temporary output folder exists.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import dvc, make_project, run, write_imdb_tarball

pytestmark = pytest.mark.slow


def encode(repo: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "stages/encode.py"],
        cwd=repo,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(repo / "src")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def temporaries(repo: Path) -> list[Path]:
    """What encode writes beside ``data/encoded`` before renaming it into place."""
    return [
        path
        for path in (repo / "data").iterdir()
        if "encoded" in path.name and path.name != "encoded"
    ]


def test_sigkill_during_encode_leaves_an_ignored_temporary_that_the_next_run_removes(tmp_path):
    repo = make_project(tmp_path, tarball=False)
    (repo / "data/raw/imdb").mkdir(parents=True)
    # encode takes a while
    write_imdb_tarball(repo / "data/raw/imdb/aclImdb_v1.tar.gz", per_folder=1500)
    dvc("repro", "prepare_vocab", cwd=repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "inputs of encode"], repo)

    process = encode(repo)
    deadline = time.monotonic() + 120
    while not temporaries(repo):
        assert process.poll() is None and time.monotonic() < deadline, (
            "encode ended before its output existed"
        )
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    assert not (repo / "data/encoded").exists(), "killed before the rename"
    assert temporaries(repo), "the killed write left its temporary folder"
    assert run(["git", "status", "--porcelain"], repo).stdout == "", (
        "git add -A would commit nothing"
    )

    assert encode(repo).wait(timeout=300) == 0
    assert (repo / "data/encoded").is_dir()
    assert temporaries(repo) == [], "the next run removed the leftover"
