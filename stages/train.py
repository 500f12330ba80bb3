"""Stage train: fit the classifier (the n-gram path, then the recurrent path's epochs, combined on
validation); log it to MLflow; write models/ and reports/.

Three steps, in the order that keeps a failure harmless: fit (a checkpoint after every epoch),
log to MLflow, and only then write the outputs, so a failed run leaves the last good ones.
"""

import dataclasses
import json
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.evaluation import figures
from rnn_sentiment.model import runtime, torch_files
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text import encoding, ngrams, vocab
from rnn_sentiment.tracking import logged_models, store, training_log
from rnn_sentiment.training import distributed, loop
from rnn_sentiment.training.fingerprint import training_fingerprint

OUTPUT_FOLDERS = [paths.MODEL.parent, paths.HISTORY.parent, paths.TRAIN_STATS.parent]


def main() -> None:
    config = params.load()
    if config.train.processes > 1 and not distributed.under_torchrun():
        sys.exit(distributed.relaunch(config.train.processes))
    world = distributed.world_from_env()
    device = distributed.device_for(world, runtime.choose_device(config.train.device))
    runtime.configure_threads(config.train.threads, world.local_size)
    with distributed.process_group(world, device):
        job = Job(config, world, device)
        if not world.is_main:  # the other ranks train their share of each epoch; rank 0 writes and logs
            job.fit(on_epoch=lambda result, state: None)
            return
        files.check_writable(OUTPUT_FOLDERS)
        experiment_id = store.connect(config.mlflow.experiment)
        job.report()
        with store.tracked("logging the training run"), \
                training_log.start(experiment_id, job.state.run_id or None, store.git_commit()) as run:
            if not job.state.run_id:
                job.state.run_id = run.info.run_id
                log_inputs(config, job, device, world)
                job.trainer.save(paths.CHECKPOINT, job.state)  # a failure from here on resumes this run
            state = job.fit(on_epoch=lambda result, state: end_of_epoch(job.trainer, result, state))
            if warning := loop.chance_warning(state):
                training_log.warn("chance_level", warning)
            history = pd.DataFrame([dataclasses.asdict(h) for h in state.history])
            summary = summarize(history, state)
            with tempfile.TemporaryDirectory() as scratch:
                bundle = Path(scratch) / paths.MODEL.name
                job.save_best(bundle)
                uris = log_outputs(config, job, bundle, history, summary)
                write_outputs(bundle, history, summary, experiment_id, uris)
    paths.CHECKPOINT.unlink(missing_ok=True)


class Job:
    """The data, the classifier with its fitted n-gram path, and the trainer, resumed if a
    checkpoint of these exact params and data exists."""

    def __init__(self, config: params.Params, world: distributed.World, device):
        self.config = config
        self.tokens = vocab.read(paths.VOCAB)
        self.table = ngrams.read(paths.NGRAMS)
        self.splits = {name: encoding.load(paths.ENCODED, name) for name in ("train", "val")}
        self.train = Batcher(self.splits["train"], device)
        runtime.seed_everything(config.seed)
        self.model = SentimentClassifier(len(self.tokens), len(self.table), config.model)
        self.trainer = loop.Trainer(self.model, config.train, config.seed, device, world)
        fingerprint = training_fingerprint(config, [paths.VOCAB, paths.NGRAMS, *sorted(paths.ENCODED.glob("*.npy"))])
        self.ngram_scores: dict[float, float] = {}
        self.state = self.trainer.resume(paths.CHECKPOINT, fingerprint) or self._fresh(fingerprint)

    def _fresh(self, fingerprint: str) -> loop.TrainState:
        state = loop.TrainState(fingerprint, run_id="")
        if self.model.ngrams is not None:
            (state.ngram_prior, state.ngram_c), self.ngram_scores = loop.fit_ngram_path(
                self.model, self.table, self.splits["train"], self.splits["val"], self.config.train.ngram_c,
                self.config.train.ngram_prior)
        return state

    def report(self) -> None:
        if self.state.run_id:
            print(f"resuming from {paths.CHECKPOINT} after epoch {len(self.state.history)} "
                  f"(MLflow run {self.state.run_id})", file=sys.stderr)
        if self.ngram_scores:
            print("n-gram path: validation ROC AUC " + ", ".join(
                f"{s:.4f} at prior={prior:g} C={c:g}" for (prior, c), s in self.ngram_scores.items())
                  + f"; prior={self.state.ngram_prior:g} C={self.state.ngram_c:g} kept", file=sys.stderr)

    def fit(self, on_epoch) -> loop.TrainState:
        return self.trainer.fit(self.train, self.splits["val"], self.state, on_epoch)

    def save_best(self, path: Path) -> None:
        self.model.load_state_dict(self.state.best_state)
        torch_files.save_bundle(path, self.model.cpu(), self.tokens, list(self.table["ngram"]), self.config.encode)

    def fitted(self) -> dict[str, float]:
        weights = self.model.combine.weight.detach().flatten().tolist()
        names = ["recurrent_weight", "ngram_weight"][:len(weights)]
        return {**dict(zip(names, weights)), "combine_bias": float(self.model.combine.bias.detach()),
                **({"ngram_c": self.state.ngram_c, "ngram_prior": self.state.ngram_prior} if self.state.ngram_c else {})}


def upstream_stats() -> dict:
    """Data, vocabulary and encoding counts: the dataset's profile in MLflow."""
    return {name: json.loads(path.read_text()) for name, path in
            (("data", paths.DATA_STATS), ("vocab", paths.VOCAB_STATS), ("encode", paths.ENCODE_STATS))}


def log_inputs(config: params.Params, job: Job, device, world: distributed.World) -> None:
    tags = {**store.run_tags(), "device": str(device), "processes": str(world.size)}
    digests = store.log_inputs("train", [paths.REVIEWS, paths.VOCAB, paths.NGRAMS], [paths.ENCODED])
    training_log.log_inputs(config, config.data.source, digests[paths.REVIEWS.as_posix()], upstream_stats(), tags)


def end_of_epoch(trainer: loop.Trainer, result: loop.EpochResult, state: loop.TrainState) -> None:
    training_log.log_epoch(result)
    trainer.save(paths.CHECKPOINT, state)
    print(loop.describe(result), file=sys.stderr)


def summarize(history: pd.DataFrame, state: loop.TrainState) -> dict:
    return {
        "best_epoch": state.best_epoch,
        "best_val_roc_auc": state.best_val_roc_auc,
        "best_val_accuracy": float(history.loc[history["epoch"] == state.best_epoch, "val_accuracy"].iloc[0]),
        "epochs_run": len(state.history),
        "train_seconds": round(float(history["seconds"].sum()), 1),
        "tokens_per_second": round(float(history["tokens_per_second"].mean()), 1),
        "mlflow_run_id": state.run_id,
    }


def log_outputs(config: params.Params, job: Job, bundle: Path, history: pd.DataFrame, summary: dict
                ) -> tuple[str, str]:
    """The summary, the curves and both MLflow models; returns the two model URIs."""
    training_log.log_summary(summary, job.fitted())
    mlflow.log_figure(figures.history(history), "plots/training_curves.png")
    logged = logged_models.log_model(bundle)
    network = logged_models.log_network(job.model, paths.VOCAB, paths.NGRAMS, config.encode.max_len)
    return logged.model_uri, network.model_uri


def write_outputs(bundle: Path, history: pd.DataFrame, summary: dict, experiment_id: str,
                  uris: tuple[str, str]) -> None:
    """Last, once MLflow holds the run: models/, the per-epoch history and reports/train.json
    (a column of `dvc exp show`)."""
    with files.atomic_path(paths.MODEL) as tmp:
        shutil.copyfile(bundle, tmp)
    with files.atomic_path(paths.HISTORY) as tmp:
        history.round(6).to_csv(tmp, index=False)
    files.write_json(paths.TRAIN_STATS, summary)
    store.write_run_info(paths.RUN_INFO, summary["mlflow_run_id"], experiment_id, *uris)


if __name__ == "__main__":
    cli.run(main)
