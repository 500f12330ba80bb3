"""Data-parallel training: 2 CPU processes with gloo through torchrun, as `dvc repro` launches it."""

import json
import sys

import pytest

from conftest import dvc, make_project, run, update_params

pytestmark = pytest.mark.slow
TWO = {"train": {"processes": 2, "threads": 1}}


def mlflow_runs(repo) -> list:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["imdb-rnn"], output_format="list")


@pytest.fixture(scope="module")
def ddp_project(tmp_path_factory):
    repo = make_project(tmp_path_factory.mktemp("ddp"), TWO)
    result = dvc("repro", cwd=repo)
    return repo, result


def test_two_gloo_processes_train_and_rank0_alone_writes(ddp_project):
    repo, result = ddp_project
    metrics = json.loads((repo / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.8
    assert result.stderr.count("epoch 1:") == 1, "only rank 0 reports"
    runs = mlflow_runs(repo)
    assert len(runs) == 1 and runs[0].data.tags["processes"] == "2"
    assert runs[0].data.params["train.processes"] == "2"
    assert not (repo / "models/checkpoint.pt").exists()


def test_two_processes_with_the_same_seed_rerun_to_the_same_result(ddp_project):
    import torch

    from rnn_sentiment.model.torch_files import load

    repo, _ = ddp_project
    first = (repo / "metrics.json").read_bytes()
    weights = load(repo / "models/model.pt")["state_dict"]
    history = (repo / "reports/plots/history.csv").read_text().splitlines()
    dvc("repro", "--force", "--single-item", "train", cwd=repo)
    dvc("repro", "--force", "--single-item", "evaluate", cwd=repo)
    again = load(repo / "models/model.pt")["state_dict"]
    assert all(torch.equal(weights[name], again[name]) for name in weights)
    strip = lambda rows: [",".join(r.split(",")[:5]) for r in rows]  # epoch, losses, accuracies  # noqa: E731
    assert strip((repo / "reports/plots/history.csv").read_text().splitlines()) == strip(history)
    assert (repo / "metrics.json").read_bytes() == first


def test_more_processes_than_batches_is_one_line(ddp_project):
    repo, _ = ddp_project
    update_params(repo, {"train": {"processes": 2, "batch_size": 4096}})
    try:
        result = run([sys.executable, "stages/train.py"], repo, check=False, env={"PYTHONPATH": "src"})
    finally:
        run(["git", "checkout", "params.yaml"], repo)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "2 processes but only 1 batches" in lines[0] and "train.batch_size 4096" in lines[0]
    assert "Traceback" not in result.stderr
