"""Failures lose no work and say one line: through real `dvc repro` / `dvc exp run` a failed stage
leaves outputs that `dvc checkout` restores to the last good run; unwritable outputs stop train
before its first epoch; a tracking store locked mid-training is one line, and the run it leaves
is resumed by the next run, not left RUNNING."""

import hashlib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import (
    dvc,
    make_project,
    run,
    run_stage,
    stage_folder,
    update_params,
    write_imdb_tarball,
)


def outputs(repo: Path) -> dict[str, str]:
    """SHA-256 of every file each stage declares as an output (folders file by file)."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    declared = [
        next(iter(out)) if isinstance(out, dict) else out
        for stage in stages.values()
        for kind in ("outs", "metrics", "plots")
        for out in stage.get(kind, [])
    ]
    files = sorted(
        f
        for path in declared
        for f in ([repo / path] if (repo / path).is_file() else (repo / path).rglob("*"))
        if f.is_file()
    )
    return {str(f.relative_to(repo)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.mark.slow
def test_after_a_failed_run_dvc_checkout_brings_back_the_last_good_outputs(trained_copy):
    repo = trained_copy
    good = outputs(repo)
    assert "models/model.pt" in good and "metrics.json" in good and "models/mlflow_run.json" in good

    update_params(repo, {"train": {"lr": -1}})
    # one project: each good run costs a pipeline
    for command in (["repro"], ["exp", "run", "-S", "train.lr=-1"]):
        failed = dvc(*command, cwd=repo, check=False)
        assert failed.returncode != 0, command
        assert "train.lr: Input should be greater than 0" in failed.stderr + failed.stdout, command
        assert not (repo / "models/model.pt").exists(), (
            "DVC removed the cached output before running train"
        )
        assert {k: v for k, v in outputs(repo).items() if k != "models/model.pt"} == {
            k: v for k, v in good.items() if k != "models/model.pt"
        }, "uncached outputs were left as they were"

        dvc("checkout", cwd=repo)
        assert outputs(repo) == good, command
        run(["git", "checkout", "params.yaml"], repo)
        assert "up to date" in dvc("status", cwd=repo).stdout, command


def test_outputs_that_cannot_be_written_stop_train_before_its_first_epoch(tmp_path):
    """The train stage's own code in-process: the one-line exit of a stage process is
    tests/test_bad_input.py's."""
    repo = stage_folder(tmp_path / "project")
    write_imdb_tarball(repo / "data/raw/imdb/aclImdb_v1.tar.gz", per_folder=20)
    for stage in ("fetch", "ingest", "prepare_vocab", "encode"):
        assert run_stage(stage, repo)[0] == 0, stage
    (repo / "models").write_text("a file where the models folder should be")
    code, stderr = run_stage("train", repo)
    lines = stderr.strip().splitlines()
    assert code == 2 and len(lines) == 1, stderr
    assert lines[0].startswith("error: models: cannot write outputs there")
    assert not (repo / "mlflow.db").exists() and not (repo / "reports/train.json").exists(), (
        "no MLflow run"
    )


def mlflow_run_status(repo: Path, run_id: str) -> str:
    with sqlite3.connect(repo / "mlflow.db") as db:
        return db.execute("SELECT status FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()[0]


@pytest.mark.slow
def test_a_store_locked_during_training_is_one_line_and_the_next_run_resumes_its_run(tmp_path):
    repo = make_project(
        tmp_path,
        {"model": {"embed_dim": 32, "hidden_dim": 32}, "train": {"epochs": 3, "patience": 3}},
        tarball=False,
    )
    # epochs of a few seconds
    write_imdb_tarball(repo / "data/raw/imdb/aclImdb_v1.tar.gz", per_folder=600)
    for stage in ("fetch", "ingest", "prepare_vocab", "encode"):
        run([sys.executable, f"stages/{stage}.py"], repo)
    train = subprocess.Popen(
        [sys.executable, "stages/train.py"], cwd=repo, stderr=subprocess.PIPE, text=True
    )
    checkpoint = repo / "models/checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists():  # the run exists and training has begun
        assert train.poll() is None and time.monotonic() < deadline, train.stderr.read()
        time.sleep(0.01)
    with sqlite3.connect(repo / "mlflow.db", timeout=60, isolation_level=None) as db:
        # no other writer until train has given up; readers never block it
        db.execute("BEGIN IMMEDIATE")
        try:
            _, stderr = train.communicate(timeout=240)
        finally:
            db.execute("ROLLBACK")
    errors = [
        line for line in stderr.splitlines() if not line.startswith(("epoch ", "n-gram path:"))
    ]
    assert train.returncode == 2 and len(errors) == 1, stderr
    assert errors[0].startswith(
        f"error: MLflow tracking store sqlite:///{repo / 'mlflow.db'} failed"
    )
    assert "database is locked" in errors[0]

    from rnn_sentiment.model import torch_files

    run_id = torch_files.load(checkpoint)["run_id"]
    # RUNNING when the store stayed locked
    assert mlflow_run_status(repo, run_id) in (
        "RUNNING",
        "FAILED",
    )
    again = run([sys.executable, "stages/train.py"], repo)
    assert "resuming from models/checkpoint.pt" in again.stderr
    assert mlflow_run_status(repo, run_id) == "FINISHED"
    assert yaml.safe_load((repo / "reports/train.json").read_text())["mlflow_run_id"] == run_id
