"""The promotion gate, on a real MLflow store with real registered versions of a tiny model: each
candidate is logged, compared with the current champion and registered by the project's own code,
as evaluate does. A coin cannot pass the gate; a clearly better model does; a better one that breaks
a behaviour capability, or that wins accuracy on skewed data by answering one class, does not; and
a champion tested on other reviews is no comparison."""

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rnn_sentiment.core import params
from rnn_sentiment.evaluation import metrics, predictions
from rnn_sentiment.serving import predict
from rnn_sentiment.tracking import champion, logged_models, registry
from tiny_bundle import write_tiny_bundle

GATE = params.load(Path(__file__).resolve().parents[1] / "params.yaml").evaluate
ALIAS = "champion"
ROWS, OTHER_ROWS = "digest of the test rows", "digest of other test rows"


@dataclass(frozen=True)
class Store:
    uri: str
    experiment: str
    bundle: Path


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    import mlflow

    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("gate", artifact_location=(root / "mlruns").as_uri())
    return Store(uri, experiment, write_tiny_bundle(root / "model.pt"))


def evaluated(
    store: Store,
    name: str,
    labels: np.ndarray,
    probabilities: np.ndarray,
    digest: str = ROWS,
    behaviour: dict[str, float] | None = None,
) -> dict[str, str]:
    """Log a model in a run of its own with its test scores, and let the gate decide; the run's
    registry tags."""
    import mlflow

    mlflow.set_tracking_uri(store.uri)
    behaviour = behaviour or {}
    ours = predictions.frame(labels, probabilities)
    scores = metrics.classification_metrics(labels, ours["probability"].to_numpy())
    with mlflow.start_run(experiment_id=store.experiment):
        logged = logged_models.log_model(store.bundle)
        comparison = champion.against_champion(name, ALIAS, digest, ours)
        mlflow.log_metrics({f"test/{k}": v for k, v in scores.items()})
        mlflow.log_metrics({f"{registry.BEHAVIOUR_METRIC}{k}": v for k, v in behaviour.items()})
        champion.record(digest, ours, comparison)
        verdict = registry.judge(scores, behaviour, comparison, GATE)
        tags = registry.register_and_promote(logged.model_uri, name, ALIAS, verdict)
        mlflow.set_tags(tags)
    return tags


def holder(name: str) -> str:
    from mlflow import MlflowClient

    return str(MlflowClient().get_model_version_by_alias(name, ALIAS).version)


def reviews(n: int = 2000, positive_share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a champion's probabilities, right on about 80 % of the reviews."""
    rng = np.random.default_rng(0)
    labels = (rng.random(n) < positive_share).astype(int)
    leaning = np.where(rng.random(n) < 0.8, labels, 1 - labels)
    return labels, np.where(leaning == 1, 0.5 + rng.random(n) * 0.45, 0.45 * rng.random(n))


def righted(labels: np.ndarray, probabilities: np.ndarray, count: int) -> np.ndarray:
    """The same model, made right, and confident, on ``count`` reviews it got wrong."""
    better = probabilities.copy()
    wrong = np.flatnonzero((probabilities >= 0.5) != (labels == 1))[:count]
    better[wrong] = np.where(labels[wrong] == 1, 0.99, 0.01)
    return better


def test_the_first_version_becomes_champion_and_an_identical_candidate_does_not(store):
    labels, probabilities = reviews()
    first = evaluated(store, "identical", labels, probabilities)
    assert first["registry.promoted"] == "true" and first["registry.p_value"] == "none"
    assert "no previous holder" in first["registry.decision"]

    again = evaluated(store, "identical", labels, probabilities.copy())
    assert again["registry.promoted"] == "false" and holder("identical") == "1"
    assert float(again["registry.p_value"]) == 1.0
    assert again["registry.decision"].startswith("version 2 did not become @champion: ")
    assert "p=1 (right only: 0 vs 0)" in again["registry.decision"]
    assert "\n" not in again["registry.decision"]


def test_a_clearly_better_candidate_is_promoted_and_a_behaviour_drop_within_the_margin_allows_it(
    store,
):
    from mlflow import MlflowClient

    labels, probabilities = reviews()
    evaluated(store, "better", labels, probabilities, behaviour={"negation": 0.9})
    tags = evaluated(
        store,
        "better",
        labels,
        righted(labels, probabilities, 40),
        behaviour={"negation": 0.9 - GATE.behaviour_margin / 2},
    )
    assert tags["registry.promoted"] == "true" and holder("better") == "2"
    assert float(tags["registry.p_value"]) == pytest.approx(2 * 0.5**40)
    run = MlflowClient().get_run(MlflowClient().get_model_version("better", "2").run_id)
    assert run.data.metrics["champion/candidate_only_right"] == 40
    assert run.data.metrics["champion/champion_only_right"] == 0
    assert run.data.metrics["champion/accuracy_diff"] == pytest.approx(40 / len(labels))
    assert run.data.metrics["champion/roc_auc_diff"] > 0


def test_a_few_more_right_reviews_are_a_coin_and_do_not_move_the_alias(store):
    labels, probabilities = reviews()
    evaluated(store, "coin", labels, probabilities)
    tags = evaluated(store, "coin", labels, righted(labels, probabilities, 3))
    assert tags["registry.promoted"] == "false" and holder("coin") == "1"
    assert f"not significant (p >= {GATE.promotion_level:g})" in tags["registry.decision"]
    assert float(tags["registry.p_value"]) == pytest.approx(0.25)


def test_a_candidate_that_breaks_a_capability_while_gaining_roc_auc_is_not_promoted(store):
    labels, probabilities = reviews()
    evaluated(store, "broken", labels, probabilities, behaviour={"negation": 0.9, "short": 0.8})
    better = righted(labels, probabilities, 40)
    tags = evaluated(store, "broken", labels, better, behaviour={"negation": 0.4, "short": 0.8})
    assert metrics.roc_auc(labels, better) > metrics.roc_auc(labels, probabilities)
    assert tags["registry.promoted"] == "false" and holder("broken") == "1"
    assert "behaviour negation 0.90 -> 0.40" in tags["registry.decision"]
    assert "short" not in tags["registry.decision"]


def test_on_skewed_data_a_candidate_answering_one_class_wins_accuracy_but_not_the_alias(store):
    labels, probabilities = reviews(positive_share=0.1)
    evaluated(store, "skewed", labels, probabilities)
    always_negative = np.full(labels.size, 0.3)
    assert np.mean(labels == 0) > metrics.classification_metrics(labels, probabilities)["accuracy"]
    tags = evaluated(store, "skewed", labels, always_negative)
    assert tags["registry.promoted"] == "false" and holder("skewed") == "1"
    assert float(tags["registry.p_value"]) < GATE.promotion_level, "significant, and still refused"
    assert "lower ROC AUC; lower balanced accuracy" in tags["registry.decision"]


def test_a_champion_tested_on_other_reviews_is_no_comparison_so_the_candidate_is_promoted(store):
    labels, probabilities = reviews()
    evaluated(store, "moved", labels, probabilities, digest=OTHER_ROWS)
    worse = 1 - probabilities
    tags = evaluated(store, "moved", labels, worse)
    assert tags["registry.promoted"] == "true" and holder("moved") == "2"
    assert tags["registry.p_value"] == "none"
    assert (
        "no comparable champion: version 1 was tested on other test reviews"
        in tags["registry.decision"]
    )


def test_predict_with_an_alias_says_which_version_that_is_and_why(store, monkeypatch):
    labels, probabilities = reviews()
    evaluated(store, "told", labels, probabilities)
    evaluated(store, "told", labels, probabilities)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        predict.main(["--model", f"models:/told@{ALIAS}", "great !"])
    first_line = stderr.getvalue().splitlines()[0]
    assert first_line.startswith(f"models:/told@{ALIAS} is version 1: version 1 became @champion: ")
    assert "no previous holder" in first_line
    assert stdout.getvalue().count("\n") == 1
    assert registry.alias_decision("models:/told/2") is None
    assert registry.alias_decision("models:/told@nobody") is None
