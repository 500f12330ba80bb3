"""Stage train: fit the classifier (the n-gram path, then the recurrent path's epochs, combined on
validation); log it to MLflow; write models/ and reports/.

Three steps, in the order that keeps a failure harmless: fit (a checkpoint after every epoch),
log to MLflow, and only then write the outputs, so a failed run leaves the last good ones.
"""

import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.evaluation import figures
from rnn_sentiment.model import runtime
from rnn_sentiment.tracking import logged_models, store, training_log
from rnn_sentiment.training import distributed, loop
from rnn_sentiment.training import job as training_job
from rnn_sentiment.training.checkpoint import EpochResult, TrainState

OUTPUT_FOLDERS = [paths.MODEL.parent, paths.HISTORY.parent, paths.TRAIN_STATS.parent]


def main() -> None:
    config = params.load()
    if config.train.processes > 1 and not distributed.under_torchrun():
        sys.exit(distributed.relaunch(config.train.processes))
    world = distributed.world_from_env()
    device = distributed.device_for(world, runtime.choose_device(config.train.device))
    runtime.configure_threads(config.train.threads, world.local_size)
    with distributed.process_group(world, device):
        job = training_job.prepare(config, world, device)
        if not world.is_main:  # the other ranks train their share of each epoch; rank 0 logs
            job.fit(on_epoch=lambda result, state: None)
            return
        files.check_writable(OUTPUT_FOLDERS)
        experiment_id = store.connect(config.mlflow.experiment)
        job.report()
        with (
            store.tracked("logging the training run"),
            training_log.start(experiment_id, job.state.run_id or None, store.git_commit()) as run,
        ):
            state = fit(config, job, run.info.run_id, device, world)
            history = pd.DataFrame([dataclasses.asdict(h) for h in state.history])
            summary = job.summary(history)
            with tempfile.TemporaryDirectory() as scratch:
                bundle = Path(scratch) / paths.MODEL.name
                job.save_best(bundle)
                uris = log_outputs(config, job, bundle, history, summary)
                write_outputs(bundle, history, summary, experiment_id, uris)
    paths.CHECKPOINT.unlink(missing_ok=True)


def fit(
    config: params.Params, job: training_job.Job, run_id: str, device, world: distributed.World
) -> TrainState:
    """Step 1: train, checkpointing after every epoch; a new run logs its inputs to MLflow first."""
    if not job.state.run_id:
        job.state.run_id = run_id
        log_inputs(config, job, device, world)
        job.trainer.save(paths.CHECKPOINT, job.state)  # a failure from here on resumes this run
    state = job.fit(on_epoch=lambda result, state: end_of_epoch(job.trainer, result, state))
    if warning := loop.chance_warning(state):
        training_log.warn("chance_level", warning)
    return state


def log_inputs(
    config: params.Params, job: training_job.Job, device, world: distributed.World
) -> None:
    tags = {**store.run_tags(), "device": str(device), "processes": str(world.size)}
    digests = store.log_inputs("train", [paths.REVIEWS, paths.VOCAB, paths.NGRAMS], [paths.ENCODED])
    training_log.log_inputs(config, digests[paths.REVIEWS.as_posix()], tags)


def end_of_epoch(trainer: loop.Trainer, result: EpochResult, state: TrainState) -> None:
    training_log.log_epoch(result)
    trainer.save(paths.CHECKPOINT, state)
    print(loop.describe(result), file=sys.stderr)


def log_outputs(
    config: params.Params, job: training_job.Job, bundle: Path, history: pd.DataFrame, summary: dict
) -> tuple[str, str | None]:
    """Step 2: the summary, the curves and the MLflow models; returns their URIs (the network's
    None unless mlflow.log_network)."""
    training_log.log_summary(summary, job.fitted())
    mlflow.log_figure(figures.history(history), "plots/training_curves.png")
    logged = logged_models.log_model(bundle)
    if not config.mlflow.log_network:
        return logged.model_uri, None
    network = logged_models.log_network(job.model, paths.VOCAB, paths.NGRAMS, config.encode.max_len)
    return logged.model_uri, network.model_uri


def write_outputs(
    bundle: Path,
    history: pd.DataFrame,
    summary: dict,
    experiment_id: str,
    uris: tuple[str, str | None],
) -> None:
    """Step 3, once MLflow holds the run: models/, the per-epoch history and reports/train.json
    (a column of `dvc exp show`)."""
    with files.atomic_path(paths.MODEL) as tmp:
        shutil.copyfile(bundle, tmp)
    with files.atomic_path(paths.HISTORY) as tmp:
        history.round(6).to_csv(tmp, index=False)
    files.write_json(paths.TRAIN_STATS, summary)
    store.write_run_info(paths.RUN_INFO, summary["mlflow_run_id"], experiment_id, *uris)


if __name__ == "__main__":
    cli.run(main)
