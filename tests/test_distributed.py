"""Data-parallel training: 2 CPU processes with gloo through torchrun, as `dvc repro` launches it,
and the same 2 processes as two torchrun nodes on 127.0.0.1, as docs/scaling.md runs them."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import dvc, make_project, run, update_params
from servers import free_port, stop_group

pytestmark = pytest.mark.slow
TWO = {"train": {"processes": 2, "threads": 1}}
HISTORY_COLUMNS = 7  # epoch, losses, accuracies, ROC AUC: all but the timings


def mlflow_runs(repo, uri: str | None = None) -> list:
    import mlflow

    mlflow.set_tracking_uri(uri or f"sqlite:///{repo / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["imdb-rnn"], output_format="list")


def torchrun_node(
    rank: int, endpoint: str, cwd, env: dict, log, rdzv_conf: str = ""
) -> subprocess.Popen:
    """The train stage as node ``rank`` of two, one process each, in its own process group."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        "2",
        "--nproc_per_node",
        "1",
        "--node_rank",
        str(rank),
        "--rdzv_backend",
        "c10d",
        "--rdzv_endpoint",
        endpoint,
        *(["--rdzv_conf", rdzv_conf] if rdzv_conf else []),
        "stages/train.py",
    ]
    with open(log, "w") as out:
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": "src", "OMP_NUM_THREADS": "1", **env},
        )


def history(repo) -> list[list[str]]:
    rows = (repo / "reports/plots/history.csv").read_text().splitlines()
    return [row.split(",")[:HISTORY_COLUMNS] for row in rows]


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
        result = run(
            [sys.executable, "stages/train.py"], repo, check=False, env={"PYTHONPATH": "src"}
        )
    finally:
        run(["git", "checkout", "params.yaml"], repo)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "2 processes but only 1 batches" in lines[0] and "train.batch_size 4096" in lines[0]
    assert "Traceback" not in result.stderr


def test_two_torchrun_nodes_train_as_one_node_with_two_processes(ddp_project, tmp_path):
    import torch

    from rnn_sentiment.model.torch_files import load

    one_node, _ = ddp_project
    repo = tmp_path / "two-nodes"
    shutil.copytree(
        one_node, repo, ignore=shutil.ignore_patterns("mlflow.db", "mlruns", "mlartifacts")
    )
    uri = f"sqlite:///{tmp_path / 'two-nodes.db'}"
    endpoint = f"127.0.0.1:{free_port()}"
    nodes = [
        torchrun_node(
            rank, endpoint, repo, {"MLFLOW_TRACKING_URI": uri}, tmp_path / f"node{rank}.log"
        )
        for rank in (0, 1)
    ]
    try:
        codes = [node.wait(timeout=600) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                stop_group(node)
    logs = [(tmp_path / f"node{rank}.log").read_text() for rank in (0, 1)]
    assert codes == [0, 0], "\n".join(log[-3000:] for log in logs)

    expected = load(one_node / "models/model.pt")["state_dict"]
    weights = load(repo / "models/model.pt")["state_dict"]
    assert expected.keys() == weights.keys()
    assert all(torch.equal(expected[name], weights[name]) for name in expected)
    assert history(repo) == history(one_node)
    runs = mlflow_runs(repo, uri)
    assert len(runs) == 1 and runs[0].data.tags["processes"] == "2"


def test_a_node_that_cannot_reach_the_rendezvous_fails_within_its_timeout(ddp_project, tmp_path):
    repo, _ = ddp_project
    endpoint = f"127.0.0.1:{free_port()}"  # nobody listens: node 0 is not up
    started_at = time.monotonic()
    node = torchrun_node(
        1, endpoint, repo, {}, tmp_path / "node1.log", "is_host=false,read_timeout=5"
    )
    try:
        code = node.wait(timeout=120)
    finally:
        if node.poll() is None:
            stop_group(node)
    elapsed = time.monotonic() - started_at
    log = (tmp_path / "node1.log").read_text()
    assert code != 0 and elapsed < 60, (code, elapsed)
    host, port = endpoint.split(":")
    assert f"timed out after 5000ms while trying to connect to ({host}, {port})" in log, log[-2000:]
