"""The real `dvc repro` on a synthetic aclImdb tarball, checked through DVC's and MLflow's own eyes."""

import json
import re
import sys

import pytest

from conftest import dvc, run, update_params

pytestmark = pytest.mark.slow
STAGES = ["fetch", "ingest", "prepare_vocab", "encode", "train", "evaluate"]


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def test_repro_writes_metrics(trained_project):
    metrics = json.loads((trained_project / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "loss"}
    assert metrics["accuracy"] > 0.8, "the synthetic reviews carry clear cue words"
    for name in ("confusion.csv", "roc.csv", "precision_recall.csv", "history.csv"):
        assert (trained_project / "reports/plots" / name).stat().st_size > 0
    assert (trained_project / "reports/misclassified.csv").exists()
    assert not (trained_project / "models/checkpoint.pt").exists(), "resume state is removed after success"


def test_mlflow_run_holds_train_and_evaluate(trained_project):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    info = json.loads((trained_project / "models/mlflow_run.json").read_text())
    client = MlflowClient()
    run_ = client.get_run(info["run_id"])
    assert run_.data.params["model.cell"] == "gru"
    assert run_.data.params["train.epochs"] == "3"
    assert "data.fingerprint" in run_.data.tags and "mlflow.source.git.commit" in run_.data.tags
    history = client.get_metric_history(info["run_id"], "val_accuracy")
    assert [m.step for m in history] == list(range(1, len(history) + 1)) and len(history) >= 1
    test_accuracy = run_.data.metrics["test.accuracy"]
    assert test_accuracy == pytest.approx(json.loads((trained_project / "metrics.json").read_text())["accuracy"])
    artifacts = {a.path for a in client.list_artifacts(info["run_id"], "plots")}
    assert {"plots/confusion_matrix.png", "plots/roc_curve.png", "plots/training_curves.png"} <= artifacts

    model = mlflow.pyfunc.load_model(info["model_uri"])
    import pandas as pd

    predictions = model.predict(pd.DataFrame({"text": ["A wonderful, superb film!", "Awful and boring, the worst."]}))
    assert list(predictions["label"]) == ["positive", "negative"]
    assert predictions["probability"].between(0, 1).all()


def test_predict_command(trained_project):
    result = run([sys.executable, "-m", "rnn_sentiment.predict", "This is great, wonderful!", "I hate it, awful"],
                 cwd=trained_project)
    labels = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert labels == ["positive", "negative"]
    assert "reviews/s" in result.stderr
    piped = run([sys.executable, "-m", "rnn_sentiment.predict", "--format", "jsonl"], cwd=trained_project,
                stdin="Superb and brilliant.\nDreadful, a waste.\n")
    rows = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    reviews = trained_project / "reviews.txt"
    reviews.write_text("Loved it, excellent!\n")
    from_file = run([sys.executable, "-m", "rnn_sentiment.predict", "--file", str(reviews)], cwd=trained_project)
    assert from_file.stdout.startswith("positive\t")


def test_second_repro_is_a_noop(trained_project):
    before = (trained_project / "models/model.pt").stat().st_mtime_ns
    result = dvc("repro", cwd=trained_project)
    assert ran_stages(result.stdout) == []
    assert (trained_project / "models/model.pt").stat().st_mtime_ns == before
    assert "up to date" in dvc("status", cwd=trained_project).stdout


def test_train_param_change_reruns_only_train_and_evaluate(trained_project):
    update_params(trained_project, {"train": {"lr": 0.02}})
    result = dvc("repro", cwd=trained_project)
    assert ran_stages(result.stdout) == ["train", "evaluate"]


def test_vocab_param_change_reruns_vocab_onward(trained_project):
    update_params(trained_project, {"vocab": {"max_size": 20}})  # a vocabulary that really changes
    result = dvc("repro", cwd=trained_project)
    assert ran_stages(result.stdout) == ["prepare_vocab", "encode", "train", "evaluate"]
