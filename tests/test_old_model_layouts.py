"""A model bundle or a training checkpoint written for another layout of the model (a param added
or dropped, a weight renamed) is refused in one line that names what differs and what to do,
never loaded half-way or answered with a traceback."""

import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from conftest import run
from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.model import torch_files
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.training import loop
from rnn_sentiment.training.checkpoint import TrainState

CONFIG = params.load(Path(__file__).resolve().parents[1] / "params.yaml")
VOCAB = pd.Index(["<pad>", "<unk>", "good", "bad"])
NGRAMS = ["good", "bad", "not good"]


def bundle(path: Path, change) -> Path:
    """A real bundle of a small classifier, then ``change``d as an older version would have written it."""
    model = SentimentClassifier(
        len(VOCAB), len(NGRAMS), CONFIG.model.model_copy(update={"embed_dim": 4, "hidden_dim": 4})
    )
    torch_files.save_bundle(path, model, VOCAB, NGRAMS, CONFIG.encode)
    content = torch_files.load(path)
    change(content)
    torch_files.save(path, content)
    return path


def refusal(call) -> str:
    with pytest.raises(PipelineError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda b: b["model"].update(attention=True), "unknown: attention"),
        (lambda b: b["model"].pop("pooling"), "missing: pooling"),
        (lambda b: b["state_dict"].pop("combine.bias"), "missing: combine.bias"),
        (
            lambda b: b["state_dict"].update({"recurrent.gate": torch.zeros(1)}),
            "unknown: recurrent.gate",
        ),
        (lambda b: b["encode"].update(lowercase=True), "unknown: lowercase"),
    ],
)
def test_a_bundle_of_another_layout_is_refused_naming_the_difference(tmp_path, change, named):
    path = bundle(tmp_path / "model.pt", change)
    message = refusal(lambda: Predictor.load(path))
    assert message.startswith(f"{path}: ") and named in message and "dvc repro train" in message


def test_predict_given_an_old_bundle_says_so_in_one_line(tmp_path):
    path = bundle(tmp_path / "model.pt", lambda b: b["model"].update(attention=True))
    result = run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--model", str(path), "fine"],
        tmp_path,
        check=False,
    )
    assert (
        result.returncode == 2
        and result.stderr.count("\n") == 1
        and "unknown: attention" in result.stderr
    )


def checkpoint(path: Path, change) -> loop.Trainer:
    """A checkpoint a trainer wrote, then ``change``d; returns a fresh trainer to resume it."""

    def trainer() -> loop.Trainer:
        model = SentimentClassifier(
            len(VOCAB), 0, CONFIG.model.model_copy(update={"embed_dim": 4, "hidden_dim": 4})
        )
        return loop.Trainer(model, CONFIG.train, 0, torch.device("cpu"))

    trainer().save(path, TrainState("fingerprint", "run"))
    content = torch_files.load(path)
    change(content)
    torch_files.save(path, content)
    return trainer()


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda c: c.pop("ngram_prior"), "missing: ngram_prior"),
        (lambda c: c.update(best_loss=0.5), "unknown: best_loss"),
        (lambda c: c["model"].pop("recurrent.head.weight"), "missing: recurrent.head.weight"),
        (lambda c: c["history"].append({"epoch": 1}), "missing: train_loss"),
    ],
)
def test_a_checkpoint_of_another_layout_is_refused_naming_the_difference(tmp_path, change, named):
    path = tmp_path / "checkpoint.pt"
    trainer = checkpoint(path, change)
    message = refusal(lambda: trainer.resume(path, "fingerprint"))
    assert message.startswith(f"{path}: ") and named in message and "delete it" in message


def test_a_checkpoint_of_this_layout_resumes(tmp_path):
    path = tmp_path / "checkpoint.pt"
    state = checkpoint(path, lambda c: None).resume(path, "fingerprint")
    assert state == TrainState("fingerprint", "run")
