"""A real `mlflow server` and a real `mlflow models serve`, both on 127.0.0.1, stopped by PID.

The pipeline runs against the server through MLFLOW_TRACKING_URI; the run, its per-epoch
metrics, its test metrics and the registered champion are read back over the REST API; the
champion is then served and answers POST /invocations in the request forms MLflow documents.
A server that is down, or answers but is not MLflow, gives one line within 30 seconds.
"""

import json
import sys
import time

import pytest

from conftest import dvc, make_project, run
from servers import (
    api,
    free_port,
    group_alive,
    mlflow_server,
    post,
    post_status,
    served_model,
    started,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    with mlflow_server(f"sqlite:///{root / 'backend.db'}", root) as url:
        yield url


@pytest.fixture(scope="module")
def project_on_server(server, tmp_path_factory):
    url = server
    repo = make_project(tmp_path_factory.mktemp("client"))
    dvc("repro", cwd=repo, env={"MLFLOW_TRACKING_URI": url})
    return repo


def test_pipeline_run_reads_back_over_the_rest_api(server, project_on_server):
    url = server
    repo = project_on_server
    run_id = json.loads((repo / "models/mlflow_run.json").read_text())["run_id"]
    assert not (repo / "mlflow.db").exists() and not (repo / "mlruns").exists(), (
        "nothing logged locally"
    )

    found = api(url, f"runs/get?run_id={run_id}")["run"]
    params = {p["key"]: p["value"] for p in found["data"]["params"]}
    assert params["model.cell"] == "gru" and params["train.epochs"] == "3"
    metrics = {m["key"]: m["value"] for m in found["data"]["metrics"]}
    written = json.loads((repo / "metrics.json").read_text())
    assert metrics["test/accuracy"] == pytest.approx(written["accuracy"])
    assert metrics["test/roc_auc"] == pytest.approx(written["roc_auc"])

    history = api(url, f"metrics/get-history?run_id={run_id}&metric_key=val/accuracy")["metrics"]
    epochs = json.loads((repo / "reports/train.json").read_text())["epochs_run"]
    assert sorted(m["step"] for m in history) == list(range(1, epochs + 1))

    champion = api(url, "registered-models/alias?name=imdb-rnn&alias=champion")["model_version"]
    assert champion["run_id"] == run_id and champion["version"] == "1"
    tags = {t["key"]: t["value"] for t in found["data"]["tags"]}
    assert (
        tags["mlflow.source.git.commit"] == run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    )
    assert tags["git.dirty"] in ("true", "false") and "data.fingerprint" in tags


REQUESTS = [
    (
        "dataframe_split",
        {
            "dataframe_split": {
                "columns": ["text"],
                "data": [["A superb, wonderful film!"], ["Awful and boring, the worst."]],
            }
        },
    ),
    (
        "dataframe_records",
        {
            "dataframe_records": [
                {"text": "A superb, wonderful film!"},
                {"text": "Awful and boring, the worst."},
            ]
        },
    ),
    ("inputs", {"inputs": ["A superb, wonderful film!", "Awful and boring, the worst."]}),
    (
        "instances list",
        {"instances": ["A superb, wonderful film!", "Awful and boring, the worst."]},
    ),
    (
        "instances",
        {
            "instances": [
                {"text": "A superb, wonderful film!"},
                {"text": "Awful and boring, the worst."},
            ]
        },
    ),
    (
        "an id column first",
        {
            "dataframe_split": {
                "columns": ["id", "text"],
                "data": [
                    ["r-1", "A superb, wonderful film!"],
                    ["r-2", "Awful and boring, the worst."],
                ],
            }
        },
    ),
]
# (request, what the 400's message must name)
REFUSED = [
    (
        {"dataframe_split": {"columns": ["id", "body"], "data": [["r-7", "awful"]]}},
        "['id', 'body']",
    ),
    ({"inputs": [1, 2.5]}, "item 0"),
    ({"inputs": ["fine", None]}, "item 1"),
    ({"inputs": [["nested"]]}, "shape (1, 1)"),
    ({"instances": [{"text": 5}]}, "item 0"),
]


def test_champion_is_served_and_answers_invocations(server, project_on_server, tmp_path):
    log = tmp_path / "serve.log"
    with served_model("models:/imdb-rnn@champion", server, log) as (url, process):
        endpoint = f"{url}/invocations"
        scores = []
        for form, body in REQUESTS:
            answer = post(endpoint, body)["predictions"]
            assert [row["label"] for row in answer] == ["positive", "negative"], form
            assert all(0 <= row["probability"] <= 1 for row in answer), form
            scores.append([row["probability"] for row in answer])
        assert all(score == pytest.approx(scores[0]) for score in scores), (
            "every form scores the texts alone"
        )
        for body, named in REFUSED:
            status, answer = post_status(endpoint, body)
            assert status == 400 and named in answer["message"], (body, answer)
        pid = process.pid
    assert not group_alive(pid), "server and its workers are gone"


def one_line_within(result, seconds: float, started_at: float) -> str:
    assert time.monotonic() - started_at < seconds
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, (
        result.stderr
    )
    return lines[0]


def test_a_tracking_server_that_is_down_is_one_line_naming_it(project_on_server):
    repo = project_on_server
    dead = f"http://127.0.0.1:{free_port()}"
    before = {p: p.stat().st_mtime_ns for p in (repo / "models/model.pt", repo / "metrics.json")}
    for stage in ("train", "evaluate"):
        started_at = time.monotonic()
        result = run(
            [sys.executable, f"stages/{stage}.py"],
            repo,
            check=False,
            env={"MLFLOW_TRACKING_URI": dead},
        )
        assert dead in one_line_within(result, 30, started_at)
    assert before == {p: p.stat().st_mtime_ns for p in before}, "outputs untouched"


def test_a_server_that_is_not_mlflow_is_one_line_naming_it(project_on_server, tmp_path):
    repo = project_on_server
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "http.server",
        str(port),
        "--bind",
        "127.0.0.1",
        "--directory",
        str(tmp_path),
    ]
    with started(cmd, f"http://127.0.0.1:{port}/", tmp_path / "http.log"):
        started_at = time.monotonic()
        result = run(
            [sys.executable, "stages/train.py"],
            repo,
            check=False,
            env={"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"},
        )
        assert f"http://127.0.0.1:{port}" in one_line_within(result, 30, started_at)
    assert not (repo / "models/checkpoint.pt").exists()
