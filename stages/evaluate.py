"""Stage evaluate: score the best model once on the test split; metrics, plots and registry."""

import tempfile
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from rnn_sentiment import atomic, cli, encoding, figures, metrics, params, paths, registry, tracking
from rnn_sentiment.inference import LABELS, Predictor
from rnn_sentiment.training import choose_device

WORST = 20


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic.atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def main() -> None:
    config = params.load()
    run = tracking.read_run_info(paths.RUN_INFO)
    predictor = Predictor.load(paths.MODEL)
    test = encoding.load(paths.ENCODED, "test")
    texts = pd.read_parquet(paths.REVIEWS, columns=["text", "split"]).query("split == 'test'")["text"]
    tracking.connect(config.mlflow.experiment)

    labels = np.asarray(test.labels).astype(int)
    probabilities = predictor.predict_encoded(test, choose_device(config.train.device))
    scores = {k: round(v, 6) for k, v in metrics.classification_metrics(labels, probabilities).items()}
    confusion = metrics.confusion_rows(labels, probabilities, LABELS)
    roc = metrics.roc_curve(labels, probabilities)
    pr = metrics.precision_recall_curve(labels, probabilities)
    confidence = np.abs(probabilities - 0.5)
    wrong = np.flatnonzero((probabilities >= 0.5) != labels)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")[:WORST]]
    misclassified = pd.DataFrame({
        "label": np.array(LABELS)[labels[worst]],
        "probability_positive": probabilities[worst].round(6),
        "text": texts.iloc[worst].str.slice(0, 600).to_numpy(),
    })

    write_csv(confusion, paths.CONFUSION)
    write_csv(roc, paths.ROC)
    write_csv(pr, paths.PRECISION_RECALL)
    write_csv(misclassified, paths.MISCLASSIFIED)
    with tracking.tracked("logging the evaluation"), mlflow.start_run(run_id=run["run_id"]):
        mlflow.log_metrics({f"test.{k}": v for k, v in scores.items()})
        mlflow.set_tags(tracking.input_tags([paths.MODEL, *sorted(paths.ENCODED.glob("test_*.npy")), paths.REVIEWS]))
        with tempfile.TemporaryDirectory() as scratch:
            scratch = Path(scratch)
            for png in (figures.confusion(confusion, scratch / "confusion_matrix.png"),
                        figures.curve(roc, "fpr", "tpr", "ROC curve", scratch / "roc_curve.png"),
                        figures.curve(pr, "recall", "precision", "precision-recall", scratch / "pr_curve.png")):
                mlflow.log_artifact(str(png), "plots")
        mlflow.log_artifact(str(paths.MISCLASSIFIED), "evaluation")
        mlflow.set_tags(registry.register_and_promote(
            run["model_uri"], config.mlflow.registered_model, config.mlflow.alias, scores["accuracy"]))
    atomic.write_json(paths.METRICS, scores)


if __name__ == "__main__":
    cli.run(main)
