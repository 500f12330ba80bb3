"""Shared artifact storage: push to a DVC remote, clone afresh, pull, and nothing needs rerunning."""

import json
import sys

import pytest

from conftest import dvc, make_project, run

pytestmark = pytest.mark.slow


def test_push_clone_pull_then_repro_reruns_nothing(trained_copy, tmp_path):
    repo = trained_copy
    remote = tmp_path / "remote"
    dvc("remote", "add", "-d", "shared", str(remote), cwd=repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "trained, with a remote"], repo)
    pushed = dvc("push", cwd=repo)
    assert "pushed" in pushed.stdout and any(remote.rglob("*"))

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert (
        not (clone / "models/model.pt").exists()
        and not (clone / "data/raw/imdb/aclImdb_v1.tar.gz").exists()
    )
    dvc("pull", cwd=clone)
    assert (clone / "models/model.pt").read_bytes() == (repo / "models/model.pt").read_bytes()
    assert (clone / "data/encoded/train_ids.npy").exists()

    status = dvc("status", "--json", cwd=clone)
    assert json.loads(status.stdout) == {}
    repro = dvc("repro", cwd=clone)
    assert "Running stage" not in repro.stdout
    predicted = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "Wonderful, superb!"], clone
    )
    assert predicted.stdout.startswith("positive")


def test_an_unreachable_remote_is_a_clear_error(tmp_path):
    repo = make_project(tmp_path)
    dvc("remote", "add", "-d", "gone", "http://127.0.0.1:9/dvc-store", cwd=repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "remote"], repo)
    dvc("repro", "fetch", cwd=repo)
    result = dvc("push", cwd=repo, check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert errors and "Traceback" not in result.stderr
