"""Stage evaluate: score the best model once on the test split (each path alone too), with 95 %
intervals, and on the behaviour cases; compare it review by review with the champion where that was
tested on the same reviews; log metrics, plots, predictions, the behaviour table, the registry
decision and the model card to the model's MLflow run; then write metrics.json and the reports."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.evaluation import (
    behaviour,
    figures,
    intervals,
    metrics,
    model_card,
    predictions,
)
from rnn_sentiment.model import runtime
from rnn_sentiment.model.network import PATHS
from rnn_sentiment.model.predictor import LABELS, Predictor
from rnn_sentiment.text import encoding
from rnn_sentiment.tracking import champion, registry, store

WORST = 20
GIT_COMMIT_TAG = "mlflow.source.git.commit"


def main() -> None:
    config = params.load()
    files.check_writable([paths.CONFUSION.parent, paths.MISCLASSIFIED.parent, paths.METRICS.parent])
    run = store.read_run_info(paths.RUN_INFO)
    cases = behaviour.load_cases(config.evaluate.behaviour_cases)
    runtime.configure_threads(config.train.threads)
    predictor = Predictor.load(paths.MODEL, runtime.choose_device(config.train.device))
    test = encoding.load(paths.ENCODED, "test")
    reviews = pd.read_parquet(paths.REVIEWS, columns=["text", "label", "split"])
    texts = reviews.query("split == 'test'")["text"]
    store.connect(config.mlflow.experiment)

    labels = np.asarray(test.labels).astype(int)
    scored = predictor.score_paths(test)
    probabilities = scored.probabilities
    checks = behaviour.run_checks(cases, predictor.predict_proba)
    pass_rates = behaviour.pass_rates(checks)
    scores = {
        k: round(v, 6)
        for k, v in {
            **metrics.classification_metrics(labels, probabilities),
            **metrics.path_accuracies(labels, scored.path_logits, PATHS),
            **intervals.bootstrap_intervals(labels, probabilities),
            **{f"behaviour_{capability}": rate for capability, rate in pass_rates.items()},
        }.items()
    }
    digest = predictions.digest(texts, labels)
    per_review = predictions.frame(labels, probabilities)
    tables = {
        paths.CONFUSION: metrics.confusion_rows(labels, probabilities, LABELS),
        paths.ROC: metrics.roc_curve(labels, probabilities),
        paths.PRECISION_RECALL: metrics.precision_recall_curve(labels, probabilities),
        paths.MISCLASSIFIED: misclassified(labels, probabilities, texts),
        paths.PREDICTIONS: per_review,
        paths.BEHAVIOUR: checks,
    }
    name, alias = config.mlflow.registered_model, config.mlflow.alias
    with store.tracked("logging the evaluation"), mlflow.start_run(run_id=run["run_id"]):
        comparison = champion.against_champion(name, alias, digest, per_review)
        log_evaluation(scores, tables)
        champion.record(digest, per_review, comparison)
        verdict = registry.judge(scores, pass_rates, comparison, config.evaluate)
        decision = registry.register_and_promote(run["model_uri"], name, alias, verdict)
        mlflow.set_tags(decision)
        card = model_card.render(
            {
                "params": params.flatten(config),
                "metrics": scores,
                "model_name": name,
                "model_version": decision["registry.version"],
                "run_id": run["run_id"],
                "data_counts": class_counts(reviews),
                "test_digest": digest,
                "behaviour": pass_rates,
                "champion": None
                if comparison.paired is None
                else {"version": comparison.champion.version, **comparison.paired.as_metrics()},
                "decision": decision["registry.decision"],
                "git_commit": mlflow.get_run(run["run_id"]).data.tags.get(GIT_COMMIT_TAG),
            }
        )
        mlflow.log_text(card, "model_card.md")
        registry.describe(name, decision["registry.version"], card)
    for path, frame in tables.items():
        write_csv(frame, path)
    files.write_text(paths.MODEL_CARD, card)
    files.write_json(paths.METRICS, scores)


def class_counts(reviews: pd.DataFrame) -> dict[str, int]:
    """Reviews per split and class, named as reports/data.json names them (``train_pos``, ...)."""
    counts = reviews.groupby(["split", "label"]).size()
    return {f"{split}_{'pos' if label else 'neg'}": int(n) for (split, label), n in counts.items()}


def misclassified(labels: np.ndarray, probabilities: np.ndarray, texts: pd.Series) -> pd.DataFrame:
    """The WORST test reviews the model got wrong most confidently."""
    confidence = np.abs(probabilities - 0.5)
    wrong = np.flatnonzero((probabilities >= 0.5) != labels)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:WORST]]
    return pd.DataFrame(
        {
            "label": np.array(LABELS)[labels[worst]],
            "probability_positive": probabilities[worst].round(6),
            "text": texts.iloc[worst].str.slice(0, 600).to_numpy(),
        }
    )


def log_evaluation(scores: dict, tables: dict[Path, pd.DataFrame]) -> None:
    mlflow.log_metrics({f"test/{k}": v for k, v in scores.items()})
    store.log_inputs(
        "evaluate", [paths.MODEL, paths.REVIEWS], sorted(paths.ENCODED.glob("test_*.npy"))
    )
    roc, pr = tables[paths.ROC], tables[paths.PRECISION_RECALL]
    mlflow.log_figure(figures.confusion(tables[paths.CONFUSION]), "plots/confusion_matrix.png")
    mlflow.log_figure(figures.curve(roc, "fpr", "tpr", "ROC curve"), "plots/roc_curve.png")
    mlflow.log_figure(
        figures.curve(pr, "recall", "precision", "precision-recall"), "plots/pr_curve.png"
    )
    mlflow.log_text(
        tables[paths.MISCLASSIFIED].to_csv(index=False), f"evaluation/{paths.MISCLASSIFIED.name}"
    )
    mlflow.log_table(tables[paths.BEHAVIOUR], "evaluation/behaviour.json")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with files.atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


if __name__ == "__main__":
    cli.run(main)
