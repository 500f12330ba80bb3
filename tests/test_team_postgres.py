"""A team's MLflow as docs/mlflow.md sets it up: `mlflow server` on a real PostgreSQL with proxied
artifacts. The pipeline logs to it, the run and the champion read back over the REST API, a teammate's
clone (`dvc pull` from a shared remote) finds the same run and moves @champion to a version it
registers, and the champion is served from the server. Every server is stopped by its PID."""

import importlib.util
import json

import pytest

from conftest import dvc, make_project, run
from servers import (
    api,
    group_alive,
    mlflow_server,
    post,
    postgres,
    postgres_bin,
    served_model,
)

pytestmark = pytest.mark.slow

NAME, ALIAS = "imdb-rnn", "champion"


def champion(url: str) -> dict:
    return api(url, f"registered-models/alias?name={NAME}&alias={ALIAS}")["model_version"]


def teammate_clone(repo, tmp_path):
    """Push the trained project to a shared local remote; clone it afresh and `dvc pull`."""
    dvc("remote", "add", "-d", "shared", str(tmp_path / "remote"), cwd=repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "trained, with a remote"], repo)
    dvc("push", cwd=repo)
    clone = tmp_path / "teammate"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    dvc("pull", cwd=clone)
    return clone


def test_pipeline_registry_and_a_teammate_on_a_postgresql_server(tmp_path):
    if postgres_bin() is None or importlib.util.find_spec("psycopg") is None:
        pytest.fail(
            'needs a PostgreSQL server and `pip install -e ".[postgres]"`; .ci/setup installs both'
        )
    (tmp_path / "me").mkdir()
    with postgres() as database, mlflow_server(database, tmp_path) as url:
        repo = make_project(tmp_path / "me")
        dvc("repro", cwd=repo, env={"MLFLOW_TRACKING_URI": url})
        logged = json.loads((repo / "models/mlflow_run.json").read_text())
        run_id = logged["run_id"]
        assert not (repo / "mlflow.db").exists() and not (repo / "mlruns").exists(), (
            "nothing logged locally"
        )

        found = api(url, f"runs/get?run_id={run_id}")["run"]
        metrics = {m["key"]: m["value"] for m in found["data"]["metrics"]}
        assert metrics["test/roc_auc"] == pytest.approx(
            json.loads((repo / "metrics.json").read_text())["roc_auc"]
        )
        history = api(url, f"metrics/get-history?run_id={run_id}&metric_key=val/accuracy")[
            "metrics"
        ]
        epochs = json.loads((repo / "reports/train.json").read_text())["epochs_run"]
        assert sorted(m["step"] for m in history) == list(range(1, epochs + 1))
        assert (champion(url)["run_id"], champion(url)["version"]) == (run_id, "1")
        assert any((tmp_path / "artifacts").rglob("MLmodel")), "artifacts went through the server"

        clone = teammate_clone(repo, tmp_path)
        assert (clone / "models/model.pt").read_bytes() == (repo / "models/model.pt").read_bytes()
        assert json.loads((clone / "models/mlflow_run.json").read_text())["run_id"] == run_id
        import mlflow

        mlflow.set_tracking_uri(
            url
        )  # an earlier test's set_tracking_uri would outrank the variable

        runs = mlflow.search_runs(experiment_names=[NAME], output_format="list")
        assert [r.info.run_id for r in runs] == [run_id]
        version = mlflow.register_model(logged["model_uri"], NAME).version
        mlflow.MlflowClient().set_registered_model_alias(NAME, ALIAS, version)
        assert (champion(url)["run_id"], champion(url)["version"]) == (run_id, "2")

        log = tmp_path / "serve.log"
        with served_model(f"models:/{NAME}@{ALIAS}", url, log) as (model_url, process):
            answer = post(
                f"{model_url}/invocations",
                {"inputs": ["A superb, wonderful film!", "Awful and boring, the worst."]},
            )
            assert [row["label"] for row in answer["predictions"]] == ["positive", "negative"]
        assert not group_alive(process.pid), "the model server and its workers are gone"
