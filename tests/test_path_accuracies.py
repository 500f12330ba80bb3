"""What each path is worth: evaluate reports the test accuracy of the recurrent path alone and of
the n-gram path alone beside the combined model's, in metrics.json and MLflow; the n-gram one is
absent when that path is off."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import dvc, update_params
from rnn_sentiment.core import params
from rnn_sentiment.evaluation.metrics import path_accuracies
from rnn_sentiment.model.network import PATHS, SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.text.ngrams import NgramIndex

CONFIG = params.load()
TEXTS = ["a good film", "a bad film , not good", "good good", "bad", "not bad at all", "film"]


def predictor(ngram_features: int) -> Predictor:
    torch.manual_seed(0)
    vocab = pd.Index(["<pad>", "<unk>", "a", "good", "bad", "film", "not"])
    ngrams = ["good", "bad", "not good", "not bad", "film"][:ngram_features]
    model = SentimentClassifier(
        len(vocab), len(ngrams), CONFIG.model.model_copy(update={"embed_dim": 4, "hidden_dim": 4})
    )
    if model.ngrams is not None:
        model.ngrams.set(torch.linspace(-1, 1, len(ngrams)), torch.linspace(2, -2, len(ngrams)))
    with torch.no_grad():
        model.combine.weight.copy_(torch.linspace(0.5, 1.5, model.combine.in_features).unsqueeze(0))
    return Predictor(model, vocab, NgramIndex(ngrams), CONFIG.encode)


@pytest.mark.parametrize("ngram_features", [5, 0])
def test_each_path_is_scored_in_the_same_pass_that_gives_the_models_probabilities(ngram_features):
    scorer = predictor(ngram_features)
    split = scorer.encode_texts(TEXTS)
    scores = scorer.score_paths(split)
    assert scores.path_logits.shape == (len(TEXTS), 1 + bool(ngram_features))
    assert np.array_equal(scores.probabilities, scorer.predict_encoded(split)), (
        "the stage's numbers unchanged"
    )
    weights, bias = (
        scorer.model.combine.weight.detach().double().numpy()[0],
        float(scorer.model.combine.bias.detach()),
    )
    assert np.allclose(scores.path_logits @ weights + bias, scores.logits, atol=1e-6)
    with torch.inference_mode():
        alone = scorer.model.recurrent(
            torch.from_numpy(np.asarray(split.ids, dtype=np.int64)),
            torch.from_numpy(np.asarray(split.lengths, dtype=np.int64)),
        )
    assert np.allclose(scores.path_logits[:, 0], alone.double().numpy(), atol=1e-6), (
        "column 0 is the recurrent path"
    )


def test_path_accuracies_name_only_the_paths_present():
    labels = np.array([1, 0, 1, 0])
    both = np.array([[2.0, -1.0], [-1.0, -3.0], [0.5, 1.0], [1.0, 2.0]])
    assert path_accuracies(labels, both, PATHS) == {
        "recurrent_accuracy": 0.75,
        "ngram_accuracy": 0.5,
    }
    assert path_accuracies(labels, both[:, :1], PATHS) == {"recurrent_accuracy": 0.75}


@pytest.mark.slow
def test_metrics_json_and_mlflow_hold_each_paths_accuracy_and_no_ngram_one_when_it_is_off(
    trained_copy,
):
    import mlflow
    from mlflow import MlflowClient

    repo = trained_copy
    shown = json.loads(dvc("metrics", "show", "--json", cwd=repo).stdout)
    both = shown[""]["data"]["metrics.json"]["data"]
    assert {"accuracy", "recurrent_accuracy", "ngram_accuracy"} <= set(both)
    assert all(0.0 <= both[k] <= 1.0 for k in ("recurrent_accuracy", "ngram_accuracy"))

    update_params(repo, {"ngrams": {"max_features": 0}})
    dvc("repro", cwd=repo)
    alone = json.loads((repo / "metrics.json").read_text())
    assert "recurrent_accuracy" in alone and "ngram_accuracy" not in alone
    mlflow.set_tracking_uri(f"sqlite:///{repo / 'mlflow.db'}")
    run = MlflowClient().get_run(
        json.loads((repo / "models/mlflow_run.json").read_text())["run_id"]
    )
    assert run.data.metrics["test/recurrent_accuracy"] == alone["recurrent_accuracy"]
    assert "test/ngram_accuracy" not in run.data.metrics
