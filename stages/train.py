"""Stage train: fit the RNN on train, select the best epoch on val, log everything to MLflow."""

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from rnn_sentiment import atomic, cli, distributed, encoding, figures, mlflow_model, params, paths, tracking, training, vocab
from rnn_sentiment.batching import Batcher
from rnn_sentiment.fingerprint import training_fingerprint
from rnn_sentiment.inference import save_bundle
from rnn_sentiment.model import RNNClassifier


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
    device = distributed.device_for(world, training.choose_device(config.train.device))
    distributed.join(world, device)
    try:
        train_and_log(config, world, device)
    finally:
        distributed.leave(world)


def train_and_log(config: params.Params, world: distributed.World, device) -> None:
    tokens = vocab.read(paths.VOCAB)
    train, val = (Batcher(encoding.load(paths.ENCODED, name), device) for name in ("train", "val"))
    training.configure_threads(config.train.threads, world.local_size)
    training.seed_everything(config.seed)
    model = RNNClassifier(len(tokens), config.model)
    trainer = training.Trainer(model, config.train, config.seed, device, paths.CHECKPOINT, world)
    fingerprint = training_fingerprint(config, [paths.VOCAB, *sorted(paths.ENCODED.glob("*.npy"))])
    state = trainer.resume(fingerprint)
    if not world.is_main:
        trainer.fit(train, val, state or training.TrainState(fingerprint, run_id=""), on_epoch=lambda result: None)
        return
    if state:
        print(f"resuming from {paths.CHECKPOINT} after epoch {len(state.history)}", file=sys.stderr)
    state = state or training.TrainState(fingerprint, run_id="")
    experiment_id = tracking.connect(config.mlflow.experiment)

    with tracking.tracked("logging the training run"), \
            mlflow.start_run(run_id=state.run_id or None, experiment_id=experiment_id) as run:
        if not state.run_id:
            state.run_id = run.info.run_id
            mlflow.log_params(params.flatten(config))
            mlflow.set_tags({**tracking.run_tags(paths.REVIEWS), "device": str(device), "processes": str(world.size),
                             **tracking.input_tags([paths.VOCAB, paths.ENCODED])})
            mlflow.log_metrics(upstream_metrics())
        state = trainer.fit(train, val, state, on_epoch=lambda result: mlflow.log_metrics(
            {k: v for k, v in dataclasses.asdict(result).items() if k != "epoch"}, step=result.epoch))

        model.load_state_dict(state.best_state)
        save_bundle(paths.MODEL, model.cpu(), tokens, config.encode)
        history = pd.DataFrame([dataclasses.asdict(h) for h in state.history])
        with atomic.atomic_path(paths.HISTORY) as tmp:
            history.round(6).to_csv(tmp, index=False)
        summary = {
            "best_epoch": state.best_epoch,
            "best_val_accuracy": state.best_val_accuracy,
            "epochs_run": len(state.history),
            "train_seconds": round(float(history["seconds"].sum()), 1),
            "tokens_per_second": round(float(history["tokens_per_second"].mean()), 1),
        }
        mlflow.log_metrics({k: float(v) for k, v in summary.items()})
        with tempfile.TemporaryDirectory() as scratch:
            mlflow.log_artifact(str(figures.history(history, Path(scratch) / "training_curves.png")), "plots")
        logged = mlflow_model.log_model(paths.MODEL)
        network = mlflow_model.log_network(model, paths.VOCAB, config.encode.max_len)
    atomic.write_json(paths.TRAIN_STATS, {**summary, "mlflow_run_id": state.run_id})  # shown by `dvc exp show`
    tracking.write_run_info(paths.RUN_INFO, state.run_id, experiment_id, logged.model_uri, network.model_uri)
    paths.CHECKPOINT.unlink(missing_ok=True)


if __name__ == "__main__":
    cli.run(main)
