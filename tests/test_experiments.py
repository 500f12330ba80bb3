"""DVC experiments and MLflow runs telling one story: exp run, queued sweeps, diffs, evaluate alone.

One committed, trained project is shared in file order: evaluate alone, then a queued sweep (one
of its runs on own data), then an experiment in the workspace compared with `dvc metrics diff`
and `dvc plots diff`.
"""

import hashlib
import json
import os
import re
import sys
import time

import pytest

from conftest import PROJECT, dvc, generator, make_project, run
from mermaid import check_xychart, mermaid_blocks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    import os

    os.environ.pop("MLFLOW_TRACKING_URI", None)
    project = make_project(tmp_path_factory.mktemp("exp"))
    dvc("repro", cwd=project)
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", "baseline run"], project)
    return project


def client(repo):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    return MlflowClient()


def runs(repo) -> list:
    import mlflow

    client(repo)
    return mlflow.search_runs(experiment_names=["imdb-rnn"], output_format="list")


def test_evaluate_alone_logs_into_the_run_of_the_model_it_evaluates(repo):
    run_id = json.loads((repo / "models/mlflow_run.json").read_text())["run_id"]
    before = len(runs(repo))
    dvc("repro", "--force", "--single-item", "evaluate", cwd=repo)
    assert len(runs(repo)) == before, "no new run"
    history = client(repo).get_metric_history(run_id, "test/accuracy")
    assert len(history) == 2, "the model's own run got the second evaluation"
    tags = client(repo).get_run(run_id).data.tags
    lock = (repo / "dvc.lock").read_text()
    assert tags["input.md5.models/model.pt"] in lock, (
        "the md5 MLflow holds is the one dvc.lock records"
    )
    assert tags["input.md5.data/vocab/vocab.tsv"] in lock


def wait_for_queue(repo, timeout: float = 600) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = dvc("queue", "status", cwd=repo).stdout
        if "Queued" not in status and "Running" not in status:
            return status
        time.sleep(3)
    raise AssertionError(f"queue still busy after {timeout}s:\n{status}")


def test_queued_experiments_log_into_the_projects_own_store_and_read_own_data_in_place(repo):
    """The second queued run also trains on a committed file of the user's, which a queued run
    (started from the last commit in a copy of the repository) must read and never write."""
    source = "data/own/queued.csv"
    generator.write_csv(repo / source, 48, seed=3)
    run(["git", "add", source], repo)
    run(["git", "commit", "-qm", "own data"], repo)
    digest = hashlib.sha256((repo / source).read_bytes()).hexdigest()

    before = {r.info.run_id for r in runs(repo)}
    dvc(
        "exp",
        "run",
        "--queue",
        "-S",
        "train.epochs=1",
        "-S",
        "model.cell=lstm",
        "-n",
        "sweep-lstm",
        cwd=repo,
    )
    dvc(
        "exp",
        "run",
        "--queue",
        "-S",
        "train.epochs=1",
        "-S",
        "model.hidden_dim=8",
        "-S",
        f"data.source={source}",
        "-n",
        "sweep-h8",
        cwd=repo,
    )
    dvc("queue", "start", cwd=repo)
    status = wait_for_queue(repo)
    logs = "".join(
        dvc("queue", "logs", name, cwd=repo, check=False).stdout[-2000:]
        for name in ("sweep-lstm", "sweep-h8")
    )
    assert status.count("Success") == 2, status + logs
    assert hashlib.sha256((repo / source).read_bytes()).hexdigest() == digest

    new = [r for r in runs(repo) if r.info.run_id not in before]
    by_name = {r.data.tags.get("dvc.exp_name"): r for r in new}
    assert set(by_name) == {"sweep-lstm", "sweep-h8"}
    assert by_name["sweep-lstm"].data.params["model.cell"] == "lstm"
    assert by_name["sweep-h8"].data.params["model.hidden_dim"] == "8"
    assert all("test/accuracy" in r.data.metrics for r in new)
    for r in new:  # tags name inputs as dvc.lock does, not by DVC's temporary copy
        assert (
            r.data.tags["input.md5.data/interim/reviews.parquet"] == r.data.tags["data.fingerprint"]
        )
        assert not [tag for tag in r.data.tags if ".dvc/tmp" in tag]
    assert all(str(repo / "mlruns") in r.info.artifact_uri for r in new), [
        r.info.artifact_uri for r in new
    ]
    assert not list((repo / ".dvc/tmp").rglob("mlflow.db")), (
        "no store left inside DVC's temporary copies"
    )

    shown = json.loads(dvc("exp", "show", "--json", cwd=repo).stdout)
    experiments = {
        r["name"]: r["data"] for e in shown for x in (e.get("experiments") or []) for r in x["revs"]
    }
    for name in ("sweep-lstm", "sweep-h8"):
        run_id = experiments[name]["metrics"]["reports/train.json"]["data"]["mlflow_run_id"]
        assert run_id == by_name[name].info.run_id, "dvc exp show leads to the MLflow run"
    counts = experiments["sweep-h8"]["metrics"]["reports/data.json"]["data"]
    assert sum(v for k, v in counts.items() if k.split("_")[0] in ("train", "val", "test")) == 48, (
        "the own data"
    )


def test_workspace_experiment_compares_with_metrics_and_plots_diff(repo, tmp_path):
    baseline = json.loads((repo / "metrics.json").read_text())
    dvc("exp", "run", "-n", "one-epoch", "-S", "train.epochs=1", "-S", "train.lr=0.002", cwd=repo)
    assert json.loads((repo / "reports/train.json").read_text())["epochs_run"] == 1

    diff = json.loads(dvc("metrics", "diff", "--all", "--json", cwd=repo).stdout)
    assert diff["metrics.json"]["accuracy"]["old"] == baseline["accuracy"]
    assert "new" in diff["metrics.json"]["accuracy"]
    assert diff["reports/train.json"]["epochs_run"] == {"old": 3, "new": 1, "diff": -2}

    plots = json.loads(dvc("plots", "diff", "HEAD", "--json", cwd=repo).stdout)["data"]
    titles = {
        "Loss per epoch",
        "Accuracy per epoch",
        "Confusion matrix (test)",
        "ROC curve (test)",
        "Precision-recall curve (test)",
    }
    assert titles <= set(plots)
    loss = plots["Loss per epoch"][0]["content"]["data"]["values"]
    assert {row["rev"] for row in loss} == {"HEAD", "workspace"}

    out = tmp_path / "plots"
    dvc("plots", "show", "-o", str(out), cwd=repo)
    page = (out / "index.html").read_text()
    assert all(title in page for title in titles)

    # the pull request's job summary, from the committed baseline and the experiment
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(PROJECT / "src")])}
    summary = run([sys.executable, "-m", "tools.pr_summary", "HEAD", "one-epoch"], repo, env=env)
    text = summary.stdout
    change = json.loads((repo / "metrics.json").read_text())
    for side in (baseline, change):
        assert (
            f"{side['accuracy_ci_low']:.4f}" in text and f"{side['accuracy_ci_high']:.4f}" in text
        )
    assert re.search(r"McNemar's exact p = \S+,", text), "the paired test on the same test reviews"
    assert "| negation |" in text, "behaviour pass rates side by side"
    blocks = mermaid_blocks(text)
    assert blocks and all(check_xychart(block) for block in blocks)
