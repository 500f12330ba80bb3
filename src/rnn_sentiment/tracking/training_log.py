"""What a training run logs to MLflow, under names that make its page in the UI read well: a run
name that matches a row of `dvc exp show`, the data as a dataset input with the fingerprint DVC
records, curves grouped by prefix (``train/``, ``val/``; evaluate adds ``test/``), single values
apart (``summary/``), counts in the dataset's profile rather than as charts, and system metrics.
"""

import json
import os
import sys
from pathlib import Path

import mlflow
from mlflow.data.meta_dataset import MetaDataset
from mlflow.data.sources import LocalArtifactDatasetSource
from mlflow.types import ColSpec, Schema

from rnn_sentiment.core import params, paths
from rnn_sentiment.tracking import store

SYSTEM_METRICS_SECONDS = 5


class ReviewsDataset(MetaDataset):
    """The reviews table described, not loaded: name, source, digest, schema and a profile."""

    def __init__(self, source: str, digest: str, profile: dict):
        self._profile = profile
        super().__init__(
            LocalArtifactDatasetSource(source),
            name=Path(source).name,
            digest=digest,
            schema=Schema(
                [ColSpec("string", "text"), ColSpec("long", "label"), ColSpec("string", "split")]
            ),
        )

    @property
    def profile(self) -> dict:
        return self._profile

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self._profile)}


def run_name(commit: str) -> str:
    """The DVC experiment's name, or where a plain `dvc repro` ran: its row in `dvc exp show`."""
    return os.environ.get("DVC_EXP_NAME") or f"workspace@{commit[:7] or 'no-git'}"


def start(experiment_id: str, run_id: str | None, commit: str) -> mlflow.ActiveRun:
    """A new run (or the one a checkpoint names), sampling system metrics while it is active."""
    mlflow.set_system_metrics_sampling_interval(SYSTEM_METRICS_SECONDS)
    return mlflow.start_run(
        run_id=run_id,
        experiment_id=experiment_id,
        log_system_metrics=True,
        run_name=None if run_id else run_name(commit),
    )


def dataset_profile() -> dict:
    """The data, vocabulary and encoding stages' counts (their reports/*.json)."""
    return {
        name: json.loads(path.read_text())
        for name, path in (
            ("data", paths.DATA_STATS),
            ("vocab", paths.VOCAB_STATS),
            ("encode", paths.ENCODE_STATS),
        )
    }


def log_inputs(config: params.Params, digest: str, tags: dict[str, str]) -> None:
    """Once per run: every parameter, the dataset input (``digest``: the reviews table's MD5, what
    dvc.lock records for it) with its profile, and the run's tags."""
    mlflow.log_params(params.flatten(config))
    source = config.data.source
    where = source if Path(source).is_absolute() else str(store.project_root() / source)
    mlflow.log_input(ReviewsDataset(where, digest, dataset_profile()), context="training")
    mlflow.set_tags({**tags, "data.fingerprint": digest})


def log_epoch(result) -> None:
    mlflow.log_metrics(
        {
            "train/loss": result.train_loss,
            "train/accuracy": result.train_accuracy,
            "train/tokens_per_second": result.tokens_per_second,
            "train/epoch_seconds": result.seconds,
            "val/loss": result.val_loss,
            "val/accuracy": result.val_accuracy,
            "val/roc_auc": result.val_roc_auc,
            "val/recurrent_accuracy": result.val_recurrent_accuracy,
        },
        step=result.epoch,
    )


def log_summary(summary: dict, fitted: dict[str, float]) -> None:
    """The chosen epoch and the time spent as ``summary/`` metrics (columns of the runs table);
    what training chose, the combiner's weights and the n-gram path's C, as ``fitted.`` params."""
    mlflow.log_metrics(
        {f"summary/{k}": float(v) for k, v in summary.items() if k != "mlflow_run_id"}
    )
    mlflow.log_params({f"fitted.{k}": round(v, 6) for k, v in fitted.items()})


def warn(name: str, message: str) -> None:
    """A warning about the run, on the terminal and as its ``warning.<name>`` tag."""
    print(f"warning: {message}", file=sys.stderr)
    mlflow.set_tag(f"warning.{name}", message)
