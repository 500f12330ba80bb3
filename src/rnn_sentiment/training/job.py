"""The train stage's job, set up in the order that makes a run repeatable: its data read, the
classifier built from the seed, then the state resumed from a checkpoint of these exact params
and data, or else started fresh with the n-gram path fitted."""

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from rnn_sentiment.core import params, paths
from rnn_sentiment.model import runtime, torch_files
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text import encoding, ngrams, vocab
from rnn_sentiment.text.encoding import EncodedSplit
from rnn_sentiment.training import distributed, exact_fits, loop
from rnn_sentiment.training.checkpoint import EpochResult, TrainState
from rnn_sentiment.training.fingerprint import training_fingerprint


@dataclass
class TrainingData:
    tokens: pd.Index  # the vocabulary
    table: pd.DataFrame  # the n-gram table
    train: EncodedSplit
    val: EncodedSplit


@dataclass
class Job:
    config: params.Params
    data: TrainingData
    batches: Batcher  # the training split's
    model: SentimentClassifier
    trainer: loop.Trainer
    state: TrainState
    # empty when resumed
    ngram_scores: dict[tuple[float, float], float] = field(default_factory=dict)

    def report(self) -> None:
        if self.state.run_id:
            print(
                f"resuming from {paths.CHECKPOINT} after epoch {len(self.state.history)} "
                f"(MLflow run {self.state.run_id})",
                file=sys.stderr,
            )
        if self.ngram_scores:
            print(
                "n-gram path: validation ROC AUC "
                + ", ".join(
                    f"{s:.4f} at prior={prior:g} C={c:g}"
                    for (prior, c), s in self.ngram_scores.items()
                )
                + f"; prior={self.state.ngram_prior:g} C={self.state.ngram_c:g} kept",
                file=sys.stderr,
            )

    def fit(self, on_epoch: Callable[[EpochResult, TrainState], None]) -> TrainState:
        return self.trainer.fit(self.batches, self.data.val, self.state, on_epoch)

    def save_best(self, path: Path) -> None:
        self.model.load_state_dict(self.state.best_state)
        torch_files.save_bundle(
            path,
            self.model.cpu(),
            self.data.tokens,
            list(self.data.table["ngram"]),
            self.config.encode,
        )

    def summary(self, history: pd.DataFrame) -> dict:
        """reports/train.json: the best epoch, the run's length and speed, its MLflow run."""
        state = self.state
        return {
            "best_epoch": state.best_epoch,
            "best_val_roc_auc": state.best_val_roc_auc,
            "best_val_accuracy": float(
                history.loc[history["epoch"] == state.best_epoch, "val_accuracy"].iloc[0]
            ),
            "epochs_run": len(state.history),
            "train_seconds": round(float(history["seconds"].sum()), 1),
            "tokens_per_second": round(float(history["tokens_per_second"].mean()), 1),
            "mlflow_run_id": state.run_id,
        }

    def fitted(self) -> dict[str, float]:
        """The combiner's weights, and the n-gram path's prior and C when it is on."""
        weights = self.model.combine.weight.detach().flatten().tolist()
        names = ["recurrent_weight", "ngram_weight"][: len(weights)]
        return {
            **dict(zip(names, weights, strict=True)),
            "combine_bias": float(self.model.combine.bias.detach()),
            **(
                {"ngram_c": self.state.ngram_c, "ngram_prior": self.state.ngram_prior}
                if self.state.ngram_c
                else {}
            ),
        }


def read_data() -> TrainingData:
    return TrainingData(
        vocab.read(paths.VOCAB),
        ngrams.read(paths.NGRAMS),
        encoding.load(paths.ENCODED, "train"),
        encoding.load(paths.ENCODED, "val"),
    )


def fresh_state(
    model: SentimentClassifier, data: TrainingData, config: params.Params, fingerprint: str
) -> tuple[TrainState, dict[tuple[float, float], float]]:
    """A new run's state, with the n-gram path (when on) fitted; and each (prior, C)'s validation AUC."""
    state, scores = TrainState(fingerprint, run_id=""), {}
    if model.ngrams is not None:
        (state.ngram_prior, state.ngram_c), scores = exact_fits.fit_ngram_path(
            model,
            data.table,
            data.train,
            data.val,
            config.train.ngram_c,
            config.train.ngram_prior,
            config.train.ngram_reviews,
            config.seed,
        )
    return state, scores


def prepare(config: params.Params, world: distributed.World, device: torch.device) -> Job:
    data = read_data()
    batches = Batcher(data.train, device)
    runtime.seed_everything(config.seed)  # before the model draws its initial weights
    model = SentimentClassifier(len(data.tokens), len(data.table), config.model)
    trainer = loop.Trainer(model, config.train, config.seed, device, world)
    fingerprint = training_fingerprint(
        config, [paths.VOCAB, paths.NGRAMS, *sorted(paths.ENCODED.glob("*.npy"))]
    )
    resumed = trainer.resume(paths.CHECKPOINT, fingerprint)
    state, scores = (resumed, {}) if resumed else fresh_state(model, data, config, fingerprint)
    return Job(config, data, batches, model, trainer, state, scores)
