"""What the train stage decides before and around training, in-process: whether a checkpoint is
this run's, which process writes, which device, which project's store, which run a model came
from, and the training-curve figure. The stage itself runs end to end in tests/test_pipeline.py."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.evaluation import figures
from rnn_sentiment.model import runtime
from rnn_sentiment.tracking import store
from rnn_sentiment.training import distributed
from rnn_sentiment.training.fingerprint import training_fingerprint

PARAMS_YAML = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture
def inputs(tmp_path) -> list[Path]:
    paths = [tmp_path / "vocab.tsv", tmp_path / "train_ids.npy"]
    for number, path in enumerate(paths):
        path.write_bytes(f"input {number}".encode())
    return paths


def changed(config: params.Params, section: str, **values) -> params.Params:
    return config.model_copy(update={section: getattr(config, section).model_copy(update=values)})


def test_a_checkpoint_fingerprint_follows_what_training_depends_on_and_nothing_else(inputs):
    config = params.load(PARAMS_YAML)
    base = training_fingerprint(config, inputs)
    assert training_fingerprint(config, list(reversed(inputs))) == base, (
        "the order inputs are listed in"
    )
    for other in (
        changed(config, "train", lr=config.train.lr * 2),
        changed(config, "model", hidden_dim=7),
        config.model_copy(update={"seed": config.seed + 1}),
    ):
        assert training_fingerprint(other, inputs) != base
    for same in (
        changed(config, "train", device="cpu" if config.train.device != "cpu" else "auto"),
        changed(config, "data", max_test=123),
        changed(config, "mlflow", experiment="elsewhere"),
    ):
        assert training_fingerprint(same, inputs) == base
    inputs[1].write_bytes(b"other arrays")
    assert training_fingerprint(config, inputs) != base


def test_the_world_is_one_process_unless_torchrun_says_otherwise(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert not distributed.under_torchrun()
    alone = distributed.world_from_env()
    assert alone.is_main and not alone.distributed
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    world = distributed.world_from_env()
    assert (world.rank, world.size, world.local_rank, world.local_size) == (3, 4, 1, 2)
    assert world.distributed and not world.is_main
    assert distributed.device_for(world, torch.device("cpu")) == torch.device("cpu"), (
        "CPU ranks share the CPU"
    )
    assert distributed.all_sum(alone, torch.tensor([2.0])).item() == 2.0, (
        "no process group for one process"
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
def test_asking_for_cuda_without_it_is_one_line_and_auto_falls_back_to_cpu():
    with pytest.raises(PipelineError, match="train.device: cuda requested but no CUDA device"):
        runtime.choose_device("cuda")
    assert runtime.choose_device("auto") == torch.device("cpu")


def test_a_queued_experiments_copy_logs_into_the_projects_own_store(tmp_path):
    project = tmp_path / "project"
    queued = project / ".dvc/tmp/exps/tmp1a2b3c"
    queued.mkdir(parents=True)
    assert store.project_root(queued) == project.resolve()
    assert store.project_root(project) == project.resolve()


def test_run_info_that_is_missing_or_not_run_info_is_one_line(tmp_path):
    info = tmp_path / "mlflow_run.json"
    with pytest.raises(PipelineError, match="not found; run `dvc repro train` first"):
        store.read_run_info(info)
    for content in ("not json", '{"run_id": "r"}', "[1, 2]"):
        info.write_text(content)
        with pytest.raises(PipelineError, match="not a run-info file"):
            store.read_run_info(info)
    store.write_run_info(info, "r1", "e1", "models:/m/1", "models:/n/1")
    assert store.read_run_info(info) == {
        "run_id": "r1",
        "experiment_id": "e1",
        "model_uri": "models:/m/1",
    }


def test_the_training_curves_figure_plots_each_splits_loss_and_accuracy_by_epoch():
    history = pd.DataFrame(
        {
            "epoch": [1, 2, 3],
            "train_loss": [0.7, 0.5, 0.4],
            "val_loss": [0.6, 0.5, 0.45],
            "train_accuracy": [0.6, 0.75, 0.8],
            "val_accuracy": [0.62, 0.7, 0.74],
            "val_roc_auc": [0.7, 0.8, 0.82],
        }
    )
    loss, accuracy = figures.history(history).axes
    for axes, metric in ((loss, "loss"), (accuracy, "accuracy")):
        assert axes.get_title() == metric
        plotted = {line.get_label(): list(line.get_ydata()) for line in axes.get_lines()}
        assert plotted == {
            split: history[f"{split}_{metric}"].tolist() for split in ("train", "val")
        }
