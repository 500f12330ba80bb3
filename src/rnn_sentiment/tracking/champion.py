"""The current holder of the alias, and a candidate's paired comparison with it: made only when the
holder was tested on the same reviews (the same ``evaluation.test_digest``), from its logged
per-review predictions."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from rnn_sentiment.evaluation import predictions
from rnn_sentiment.evaluation.paired import Paired, compare

DIGEST_TAG = "evaluation.test_digest"
PREDICTIONS_ARTIFACT = "evaluation/predictions.csv"


@dataclass(frozen=True)
class Champion:
    version: str
    run_id: str
    # its run's latest values: test/roc_auc, test/behaviour_<capability>, ...
    metrics: dict[str, float]
    digest: str | None


@dataclass(frozen=True)
class Comparison:
    champion: Champion | None
    paired: Paired | None
    why_not: str  # why there is no paired comparison; empty when there is one


def current(name: str, alias: str) -> Champion | None:
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    run = client.get_run(version.run_id)
    return Champion(
        str(version.version), version.run_id, dict(run.data.metrics), run.data.tags.get(DIGEST_TAG)
    )


def logged_predictions(run_id: str) -> pd.DataFrame | None:
    """The run's ``evaluation/predictions.csv``; None where it has none."""
    import mlflow

    with tempfile.TemporaryDirectory() as scratch:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=PREDICTIONS_ARTIFACT, dst_path=scratch
            )
        except (MlflowException, OSError):
            return None
        return pd.read_csv(Path(path))


def against_champion(name: str, alias: str, digest: str, ours: pd.DataFrame) -> Comparison:
    """``ours``: this model's predictions (``predictions.frame``) for the test split of ``digest``.
    Call it before this run logs its own predictions: the champion may be an earlier version of
    this very run."""
    holder = current(name, alias)
    if holder is None:
        return Comparison(None, None, "no previous holder")
    if holder.digest != digest:
        tested = "on other test reviews" if holder.digest else "without a test digest"
        return Comparison(
            holder, None, f"no comparable champion: version {holder.version} was tested {tested}"
        )
    theirs = logged_predictions(holder.run_id)
    if theirs is None or not predictions.same_rows(theirs, ours):
        return Comparison(
            holder,
            None,
            f"no comparable champion: version {holder.version}'s {PREDICTIONS_ARTIFACT} is missing or of other rows",
        )
    return Comparison(
        holder,
        compare(ours["label"], ours["probability"], theirs["probability"]),
        "",
    )


def record(digest: str, ours: pd.DataFrame, comparison: Comparison) -> None:
    """Log to the active run what a later candidate compares with (its predictions and their
    digest), and this comparison as ``champion/<key>`` metrics."""
    import mlflow

    mlflow.set_tag(DIGEST_TAG, digest)
    mlflow.log_text(ours.to_csv(index=False), PREDICTIONS_ARTIFACT)
    if comparison.paired is not None:
        mlflow.log_metrics({f"champion/{k}": v for k, v in comparison.paired.as_metrics().items()})
