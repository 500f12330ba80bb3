"""Killed jobs lose nothing: atomic outputs under SIGKILL, resumed training, deterministic metrics.

Every kill here is a real SIGKILL to a real process group (the way an OOM killer or a lost
node ends a job), never an exception raised from inside.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import dvc, make_project

WRITER = """
import sys, time
from pathlib import Path
from rnn_sentiment.core.files import atomic_dir, atomic_path
target, kind, content = Path(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
hang = sys.argv[4] == "hang"
with (atomic_path if kind == "file" else atomic_dir)(target) as tmp:
    out = open(tmp if kind == "file" else tmp / "part.bin", "wb")
    out.write(content[: len(content) // 2]); out.flush()
    if hang:
        print("half written", flush=True); time.sleep(600)
    out.write(content[len(content) // 2:]); out.close()
"""


def writer(target: Path, kind: str, content: str, hang: bool) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), kind, content, "hang" if hang else "done"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_sigkill_in_the_middle_of_a_write_leaves_the_old_artifact(tmp_path, kind):
    target = tmp_path / ("model.pt" if kind == "file" else "encoded")
    read = (
        (lambda: target.read_text())
        if kind == "file"
        else (lambda: (target / "part.bin").read_text())
    )
    first = writer(target, kind, "old artifact " * 1000, hang=False)
    assert first.wait(timeout=60) == 0
    old = read()

    killed = writer(target, kind, "new artifact " * 1000, hang=True)
    assert killed.stdout.readline().strip() == "half written"
    os.killpg(killed.pid, signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL
    assert read() == old, "the old artifact is intact, not truncated"

    again = writer(target, kind, "new artifact " * 1000, hang=False)
    assert again.wait(timeout=60) == 0
    assert read() == "new artifact " * 1000


SLOW = {"model": {"embed_dim": 48, "hidden_dim": 48}, "train": {"epochs": 4, "patience": 4}}


def kill_after_first_epoch(repo: Path) -> int:
    """Start `dvc repro`, SIGKILL its whole process group once a checkpoint holds a finished epoch."""
    from rnn_sentiment.model.torch_files import load

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro"],
        cwd=repo,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    checkpoint = repo / "models/checkpoint.pt"
    deadline = time.monotonic() + 300
    # written at the start, then per epoch
    while not (checkpoint.exists() and load(checkpoint)["history"]):
        assert process.poll() is None and time.monotonic() < deadline, (
            "repro ended before any epoch"
        )
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return len(load(checkpoint)["history"])


@pytest.mark.slow
def test_killed_training_resumes_and_ends_with_the_uninterrupted_metrics(tmp_path):
    (tmp_path / "clean").mkdir()
    (tmp_path / "killed").mkdir()
    clean = make_project(tmp_path / "clean", SLOW)
    dvc("repro", cwd=clean)

    killed = make_project(tmp_path / "killed", SLOW)
    finished = kill_after_first_epoch(killed)
    assert 1 <= finished < 4
    assert not (killed / "models/model.pt").exists(), "no model was written by the killed run"
    assert not (killed / "metrics.json").exists()

    result = dvc("repro", cwd=killed)
    assert f"resuming from models/checkpoint.pt after epoch {finished}" in result.stderr
    assert (killed / "metrics.json").read_bytes() == (clean / "metrics.json").read_bytes()
    history = [
        (tmp / "reports/plots/history.csv").read_text().splitlines() for tmp in (clean, killed)
    ]
    columns = history[0][0].split(",")
    keep = [i for i, c in enumerate(columns) if c not in ("seconds", "tokens_per_second")]
    assert [[row.split(",")[i] for i in keep] for row in history[0]] == [
        [row.split(",")[i] for i in keep] for row in history[1]
    ], "same per-epoch losses and accuracies"
    assert "up to date" in dvc("status", cwd=killed).stdout


@pytest.mark.slow
def test_two_clean_runs_give_byte_identical_metrics_and_model(trained_project, tmp_path):
    again = make_project(tmp_path)
    dvc("repro", cwd=again)
    baseline = (trained_project / "metrics.json").read_bytes()
    assert (again / "metrics.json").read_bytes() == baseline
    assert (again / "models/model.pt").read_bytes() == (
        trained_project / "models/model.pt"
    ).read_bytes()
    assert json.loads(baseline)["accuracy"] > 0.5
