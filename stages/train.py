"""Stage train: fit the classifier on train, keeping the best epoch on val; write it; log it to MLflow."""

import dataclasses
import json
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.text import encoding, vocab
from rnn_sentiment.evaluation import figures
from rnn_sentiment.model import runtime, torch_files
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.tracking import logged_models, store
from rnn_sentiment.training import distributed, loop
from rnn_sentiment.training.fingerprint import training_fingerprint


def upstream_metrics() -> dict[str, float]:
    """Data, vocabulary and encoding stats, so the one MLflow run tells the whole story."""
    flat = {}
    for name, path in (("data", paths.DATA_STATS), ("vocab", paths.VOCAB_STATS), ("encode", paths.ENCODE_STATS)):
        stats = json.loads(path.read_text())
        for key, value in pd.json_normalize(stats, sep=".").iloc[0].items():
            flat[f"{name}.{key}"] = float(value)
    return flat


def main() -> None:
    config = params.load()
    if config.train.processes > 1 and not distributed.under_torchrun():
        sys.exit(distributed.relaunch(config.train.processes))
    world = distributed.world_from_env()
    device = distributed.device_for(world, runtime.choose_device(config.train.device))
    with distributed.process_group(world, device):
        tokens = vocab.read(paths.VOCAB)
        train, val = (Batcher(encoding.load(paths.ENCODED, name), device) for name in ("train", "val"))
        runtime.configure_threads(config.train.threads, world.local_size)
        runtime.seed_everything(config.seed)
        model = SentimentClassifier(len(tokens), config.model)
        trainer = loop.Trainer(model, config.train, config.seed, device, world)
        fingerprint = training_fingerprint(config, [paths.VOCAB, *sorted(paths.ENCODED.glob("*.npy"))])
        state = trainer.resume(paths.CHECKPOINT, fingerprint) or loop.TrainState(fingerprint, run_id="")
        if not world.is_main:  # the other ranks train their share of each epoch; rank 0 writes and logs
            trainer.fit(train, val, state, on_epoch=lambda result, state: None)
            return
        if state.history:
            print(f"resuming from {paths.CHECKPOINT} after epoch {len(state.history)}", file=sys.stderr)
        experiment_id = store.connect(config.mlflow.experiment)
        with store.tracked("logging the training run"), \
                mlflow.start_run(run_id=state.run_id or None, experiment_id=experiment_id) as run:
            if not state.run_id:
                state.run_id = run.info.run_id
                log_run_inputs(config, device, world)
            state = trainer.fit(train, val, state, on_epoch=lambda result, state: end_of_epoch(trainer, result, state))
            model.load_state_dict(state.best_state)
            history = pd.DataFrame([dataclasses.asdict(h) for h in state.history])
            summary = {**summarize(history, state), "mlflow_run_id": state.run_id}
            with tempfile.TemporaryDirectory() as scratch:
                bundle = Path(scratch) / paths.MODEL.name
                torch_files.save_bundle(bundle, model.cpu(), tokens, config.encode)
                uris = log_outputs(config, model, bundle, history, summary)
                write_outputs(bundle, history, summary, experiment_id, uris)
        paths.CHECKPOINT.unlink(missing_ok=True)


def log_run_inputs(config: params.Params, device, world: distributed.World) -> None:
    mlflow.log_params(params.flatten(config))
    mlflow.set_tags({**store.run_tags(paths.REVIEWS), "device": str(device), "processes": str(world.size),
                     **store.input_tags([paths.VOCAB, paths.ENCODED])})
    mlflow.log_metrics(upstream_metrics())


def end_of_epoch(trainer: loop.Trainer, result: loop.EpochResult, state: loop.TrainState) -> None:
    mlflow.log_metrics({k: v for k, v in dataclasses.asdict(result).items() if k != "epoch"}, step=result.epoch)
    trainer.save(paths.CHECKPOINT, state)
    print(loop.describe(result), file=sys.stderr)


def summarize(history: pd.DataFrame, state: loop.TrainState) -> dict:
    return {
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "epochs_run": len(state.history),
        "train_seconds": round(float(history["seconds"].sum()), 1),
        "tokens_per_second": round(float(history["tokens_per_second"].mean()), 1),
    }


def log_outputs(config: params.Params, model: SentimentClassifier, bundle: Path, history: pd.DataFrame,
                summary: dict) -> tuple[str, str]:
    """The summary, the curves and both MLflow models; returns the two model URIs."""
    mlflow.log_metrics({k: float(v) for k, v in summary.items() if k != "mlflow_run_id"})
    with tempfile.TemporaryDirectory() as scratch:
        mlflow.log_artifact(str(figures.history(history, Path(scratch) / "training_curves.png")), "plots")
    logged = logged_models.log_model(bundle)
    network = logged_models.log_network(model, paths.VOCAB, config.encode.max_len)
    return logged.model_uri, network.model_uri


def write_outputs(bundle: Path, history: pd.DataFrame, summary: dict, experiment_id: str,
                  uris: tuple[str, str]) -> None:
    """Last, once MLflow holds the run: models/, the per-epoch history and reports/train.json
    (a column of `dvc exp show`). A failure before this leaves the previous outputs as they were."""
    with files.atomic_path(paths.MODEL) as tmp:
        shutil.copyfile(bundle, tmp)
    with files.atomic_path(paths.HISTORY) as tmp:
        history.round(6).to_csv(tmp, index=False)
    files.write_json(paths.TRAIN_STATS, summary)
    store.write_run_info(paths.RUN_INFO, summary["mlflow_run_id"], experiment_id, *uris)


if __name__ == "__main__":
    cli.run(main)
