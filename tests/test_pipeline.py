"""The real `dvc repro` on a synthetic aclImdb tarball, checked through DVC's and MLflow's own eyes."""

import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import dvc, run, update_params

pytestmark = pytest.mark.slow
STAGES = ["fetch", "ingest", "prepare_vocab", "encode", "train", "evaluate"]


def ran_stages(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def test_repro_writes_metrics(trained_project):
    metrics = json.loads((trained_project / "metrics.json").read_text())
    behaviour = pd.read_csv(trained_project / "reports/behaviour.csv")
    capabilities = list(dict.fromkeys(behaviour["capability"]))
    assert len(capabilities) >= 5, "every capability of behaviour/imdb.yaml is checked"
    for capability in capabilities:
        assert metrics.pop(f"behaviour_{capability}") == pytest.approx(
            behaviour.loc[behaviour["capability"] == capability, "passed"].mean(), abs=1e-6
        )
    assert set(metrics) == {
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "loss",
        "recurrent_accuracy",
        "ngram_accuracy",
        "accuracy_ci_low",
        "accuracy_ci_high",
        "roc_auc_ci_low",
        "roc_auc_ci_high",
    }
    assert metrics["accuracy"] > 0.8, "the synthetic reviews carry clear cue words"
    for name in ("accuracy", "roc_auc"):
        assert metrics[f"{name}_ci_low"] <= metrics[name] <= metrics[f"{name}_ci_high"]
    predicted = pd.read_csv(trained_project / "reports/predictions.csv")
    assert list(predicted.columns) == ["id", "label", "probability"]
    assert predicted["id"].tolist() == list(range(len(predicted)))
    assert np.mean((predicted["probability"] >= 0.5) == predicted["label"]) == pytest.approx(
        metrics["accuracy"], abs=1e-6
    )
    for name in ("confusion.csv", "roc.csv", "precision_recall.csv", "history.csv"):
        assert (trained_project / "reports/plots" / name).stat().st_size > 0
    assert (trained_project / "reports/misclassified.csv").exists()
    card = (trained_project / "reports/model_card.md").read_text()
    assert f"{metrics['accuracy']:.4f}" in card and f"{metrics['accuracy_ci_low']:.4f}" in card
    assert "## Intended use" in card and "negation" in card
    assert not (trained_project / "models/checkpoint.pt").exists(), (
        "resume state is removed after success"
    )


def test_the_epoch_kept_is_the_first_with_the_best_validation_roc_auc(trained_project):
    """Not accuracy, which a constant predictor wins on a skewed validation split."""
    import pandas as pd

    history = pd.read_csv(trained_project / "reports/plots/history.csv")
    summary = json.loads((trained_project / "reports/train.json").read_text())
    best = history.loc[history["val_roc_auc"].idxmax()]
    assert len(history) == summary["epochs_run"] >= 2
    assert summary["best_epoch"] == best["epoch"]
    assert summary["best_val_roc_auc"] == pytest.approx(best["val_roc_auc"], abs=1e-6)


def test_mlflow_run_holds_train_and_evaluate(trained_project):
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    info = json.loads((trained_project / "models/mlflow_run.json").read_text())
    client = MlflowClient()
    run_ = client.get_run(info["run_id"])
    assert run_.data.params["model.cell"] == "gru"
    assert run_.data.params["train.epochs"] == "3"
    assert "mlflow.source.git.commit" in run_.data.tags
    reviews_md5 = hashlib.md5(
        (trained_project / "data/interim/reviews.parquet").read_bytes()
    ).hexdigest()
    assert (
        run_.data.tags["data.fingerprint"]
        == run_.data.tags["input.md5.data/interim/reviews.parquet"]
        == reviews_md5
    )
    assert [d.dataset.digest for d in run_.inputs.dataset_inputs] == [reviews_md5]
    history = client.get_metric_history(info["run_id"], "val/accuracy")
    assert [m.step for m in history] == list(range(1, len(history) + 1)) and len(history) >= 1
    test_accuracy = run_.data.metrics["test/accuracy"]
    assert test_accuracy == pytest.approx(
        json.loads((trained_project / "metrics.json").read_text())["accuracy"]
    )
    artifacts = {a.path for a in client.list_artifacts(info["run_id"], "plots")}
    assert {
        "plots/confusion_matrix.png",
        "plots/roc_curve.png",
        "plots/training_curves.png",
    } <= artifacts

    assert (
        run_.data.tags["input.md5.data/vocab/vocab.tsv"]
        in (trained_project / "dvc.lock").read_text()
    )
    inputs = mlflow.artifacts.load_dict(f"runs:/{info['run_id']}/inputs/train.json")
    assert (
        inputs["data/encoded/train_ids.npy"]
        == hashlib.md5((trained_project / "data/encoded/train_ids.npy").read_bytes()).hexdigest()
    )
    assert not any(tag.startswith("input.md5.data/encoded/") for tag in run_.data.tags), (
        "folders' files are not tags"
    )

    model = mlflow.pyfunc.load_model(info["model_uri"])
    import pandas as pd

    predictions = model.predict(
        pd.DataFrame({"text": ["A wonderful, superb film!", "Awful and boring, the worst."]})
    )
    assert list(predictions["label"]) == ["positive", "negative"]
    assert predictions["probability"].between(0, 1).all()


def test_predict_command(trained_project, tmp_path):
    result = run(
        [
            sys.executable,
            "-m",
            "rnn_sentiment.serving.predict",
            "This is great, wonderful!",
            "I hate it, awful",
        ],
        cwd=trained_project,
    )
    labels = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert labels == ["positive", "negative"]
    assert "reviews/s" in result.stderr
    piped = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--format", "jsonl"],
        cwd=trained_project,
        stdin="Superb and brilliant.\nDreadful, a waste.\n",
    )
    rows = [json.loads(line) for line in piped.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("Loved it, excellent!\n")
    from_file = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--file", str(reviews)],
        cwd=trained_project,
    )
    assert from_file.stdout.startswith("positive\t")


def test_second_repro_is_a_noop(trained_copy):
    before = (trained_copy / "models/model.pt").stat().st_mtime_ns
    result = dvc("repro", cwd=trained_copy)
    assert ran_stages(result.stdout) == []
    assert (trained_copy / "models/model.pt").stat().st_mtime_ns == before
    assert "up to date" in dvc("status", cwd=trained_copy).stdout


@pytest.mark.parametrize(
    "module, stale",
    [
        ("serving/predict.py", []),
        ("text/tokenizer.py", ["prepare_vocab", "encode", "train", "evaluate"]),
        ("tracking/served_model.py", ["train", "evaluate"]),
    ],
)
def test_a_code_change_makes_stale_exactly_the_stages_that_run_it(trained_copy, module, stale):
    path = trained_copy / "src/rnn_sentiment" / module
    original = path.read_text()
    path.write_text(original + "\n# an edit\n")
    status = json.loads(dvc("status", "--json", cwd=trained_copy).stdout)
    assert sorted(status) == sorted(stale)
    path.write_text(original)
    assert json.loads(dvc("status", "--json", cwd=trained_copy).stdout) == {}


def test_param_changes_rerun_the_stages_that_read_them_and_the_champion_is_the_best_version(
    trained_copy,
):
    """Two reruns, each a model version in the copy's own registry."""
    import mlflow
    from mlflow import MlflowClient

    update_params(trained_copy, {"train": {"lr": 0.02}})
    assert ran_stages(dvc("repro", cwd=trained_copy).stdout) == ["train", "evaluate"]
    update_params(trained_copy, {"vocab": {"max_size": 20}})  # a vocabulary that really changes
    assert ran_stages(dvc("repro", cwd=trained_copy).stdout) == [
        "prepare_vocab",
        "encode",
        "train",
        "evaluate",
    ]

    mlflow.set_tracking_uri(f"sqlite:///{trained_copy / 'mlflow.db'}")
    client = MlflowClient()
    versions = sorted(
        client.search_model_versions("name = 'imdb-rnn'"), key=lambda v: int(v.version)
    )
    assert len(versions) == 2
    first, second = (client.get_run(v.run_id) for v in versions)
    assert first.data.tags["registry.promoted"] == "true"
    assert "no previous holder" in first.data.tags["registry.decision"]
    # the same test reviews: the second is judged against the first, review by review
    assert first.data.tags["evaluation.test_digest"] == second.data.tags["evaluation.test_digest"]
    p_value = float(second.data.tags["registry.p_value"])
    assert second.data.metrics["champion/mcnemar_p"] == pytest.approx(p_value)
    assert f"p={p_value:.3g}" in second.data.tags["registry.decision"]
    champion = client.get_model_version_by_alias("imdb-rnn", "champion").version
    promoted = second.data.tags["registry.promoted"] == "true"
    assert champion == versions[1 if promoted else 0].version

    result = run(
        [
            sys.executable,
            "-m",
            "rnn_sentiment.serving.predict",
            "--model",
            "models:/imdb-rnn@champion",
            "Superb, wonderful!",
        ],
        cwd=trained_copy,
    )
    assert result.stdout.startswith("positive\t")
    assert f"models:/imdb-rnn@champion is version {champion}: version {champion} became" in (
        result.stderr
    )


@pytest.fixture(scope="module")
def pyfunc_model(trained_project):
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{trained_project / 'mlflow.db'}")
    info = json.loads((trained_project / "models/mlflow_run.json").read_text())
    return mlflow.pyfunc.load_model(info["model_uri"])


def test_pyfunc_model_takes_hostile_text(pyfunc_model):
    import pandas as pd
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from mlflow.exceptions import MlflowException

    text = st.one_of(
        st.text(alphabet=st.characters(codec=None), max_size=200),
        st.sampled_from(["", "\x00\x1b", "\ud800", "great " * 100_000]),
    )

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(text, min_size=1, max_size=5))
    def check(texts):
        for model_input in (pd.DataFrame({"text": pd.Series(texts, dtype=object)}), texts):
            try:
                out = pyfunc_model.predict(model_input)
            except MlflowException as error:  # MLflow's own schema check refuses unencodable text
                assert any(0xD800 <= ord(c) <= 0xDFFF for t in texts for c in t), error
                assert "surrogates not allowed" in str(error)
                continue
            assert list(out.columns) == ["label", "probability"] and len(out) == len(texts)
            assert out["probability"].between(0, 1).all()

    check()


def test_the_served_model_scores_the_text_column_and_refuses_what_is_not_text(pyfunc_model):
    import pandas as pd
    from mlflow.exceptions import MlflowException

    texts = ["Awful and boring, the worst.", "A superb, wonderful film!"]
    alone = pyfunc_model.predict(texts)["probability"].tolist()
    with_id = pyfunc_model.predict(pd.DataFrame({"id": ["r-1", "r-2"], "text": texts}))[
        "probability"
    ].tolist()
    assert with_id == pytest.approx(alone)
    assert pyfunc_model.predict(["r-1", "r-2"])["probability"].tolist() != pytest.approx(alone), (
        "not the ids"
    )
    one_column = pyfunc_model.predict(pd.DataFrame({"review": texts}))["probability"].tolist()
    assert one_column == pytest.approx(alone)
    for bad, named in [
        (pd.DataFrame({"id": ["r-7"], "body": ["awful"]}), "['id', 'body']"),
        ([1, 2.5], "item 0"),
        (["fine", None], "item 1"),
        ([["nested"]], "item 0"),
    ]:
        with pytest.raises(MlflowException, match=re.escape(named)) as caught:
            pyfunc_model.predict(bad)
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_network_is_logged_with_mlflow_pytorch_as_pt2_with_the_vocabulary_beside_it(
    trained_project, tmp_path
):
    """The train stage's own call, on the trained model, into a store of the test's (the shared
    project runs with mlflow.log_network off; the browser test's run logs it through the stage)."""
    import mlflow
    import mlflow.pytorch
    import torch
    from mlflow.models import Model

    from rnn_sentiment.model.predictor import Predictor
    from rnn_sentiment.tracking import logged_models

    assert (
        json.loads((trained_project / "models/mlflow_run.json").read_text())["network_uri"] is None
    )
    predictor = Predictor.load(trained_project / "models/model.pt")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = mlflow.create_experiment("network", artifact_location=str(tmp_path / "artifacts"))
    vocab = trained_project / "data/vocab"
    with mlflow.start_run(experiment_id=experiment):
        uri = logged_models.log_network(
            predictor.model, vocab / "vocab.tsv", vocab / "ngrams.tsv", predictor.encode.max_len
        ).model_uri
    local = mlflow.artifacts.download_artifacts(uri)
    meta = Model.load(local)
    assert "pytorch" in meta.flavors
    assert list(Path(local).rglob("model.pt2")) and not list(Path(local).rglob("model.pth")), (
        "pt2, not pickle"
    )
    assert [spec.name for spec in meta.signature.inputs.inputs] == [
        "ids",
        "lengths",
        "ngram_ids",
        "ngram_offsets",
    ]
    example = json.loads(next(Path(local).rglob("input_example.json")).read_text())
    for table in ("vocab.tsv", "ngrams.tsv"):
        shipped = next(Path(local).rglob(table))
        assert shipped.read_bytes() == (trained_project / "data/vocab" / table).read_bytes()

    network = mlflow.pytorch.load_model(uri)
    encoded = predictor.encode_texts(
        ["A wonderful, superb film!", "Awful and boring.", "ok", "a b c d e f"]
    )
    inputs = [
        torch.from_numpy(np.asarray(getattr(encoded, part), dtype=np.int64))
        for part in ("ids", "lengths", "ngram_ids", "ngram_offsets")
    ]
    with torch.no_grad():
        assert torch.allclose(network(*inputs), predictor.model(*inputs), atol=1e-5)
        example_inputs = [
            torch.tensor(example[part]) for part in ("ids", "lengths", "ngram_ids", "ngram_offsets")
        ]
        assert network(*example_inputs).shape == (2,)


@pytest.mark.parametrize("uri", ["models:/imdb-rnn@nope", "models:/no-such-model@champion"])
def test_predict_with_an_unknown_name_or_alias_lists_what_exists(trained_project, uri):
    result = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--model", uri, "fine"],
        cwd=trained_project,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert uri in lines[0] and "registered: imdb-rnn (aliases: champion)" in lines[0]
