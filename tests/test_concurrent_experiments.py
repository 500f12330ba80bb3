"""Two `dvc exp run` in one workspace: the second is refused and the first completes and is recorded.

Without the stages' hold on DVC's workspace lock (core/workspace_lock.py), the second run gets in
while a stage runs, fails, and its clean-up deletes the refs the first needs to commit its
experiment (treeverse/dvc#9842).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import dvc, make_project, write_imdb_tarball

pytestmark = pytest.mark.slow
# train runs on well after its first checkpoint (16 s more idle), so the second `dvc exp run`,
# started then, ends its own retries for the lock (about 3 s) while the first still holds it
LONGER_TRAIN = {
    "model": {"embed_dim": 48, "hidden_dim": 48},
    "train": {"epochs": 100, "patience": 100},
}


def test_a_second_exp_run_during_a_stage_is_refused_and_the_first_is_recorded(tmp_path):
    # outside the repo: exp run's checkout leaves it
    source = write_imdb_tarball(tmp_path / "aclImdb_v1.tar.gz")
    repo = make_project(tmp_path, {**LONGER_TRAIN, "data": {"source": str(source)}}, tarball=False)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.Popen(
        [sys.executable, "-m", "dvc", "exp", "run", "-n", "first"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    checkpoint = repo / "models/checkpoint.pt"  # written as soon as train's MLflow run exists
    deadline = time.monotonic() + 300
    while not checkpoint.exists():
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.05)

    second = dvc("exp", "run", "-n", "second", cwd=repo, check=False)
    assert first.poll() is None, "the first run ended before the second gave up: lengthen its train"
    output, _ = first.communicate(timeout=600)

    assert first.returncode == 0, output
    assert dvc("exp", "list", "--name-only", cwd=repo).stdout.split() == ["first"]
    assert second.returncode != 0, "the second run is refused"
    assert "Unable to acquire lock" in second.stderr, second.stderr
