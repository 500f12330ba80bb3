"""Answers that leave no one guessing: a file that is no model bundle is named as such in one line;
a blank review gets the same documented answer from the command line, a file, stdin and the
served model; one string sent to the served model is one review; an unreachable tracking store
is one complete line; loading the served model gives no warning."""

import io
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import run
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.serving import predict
from rnn_sentiment.tracking import logged_models, served_model, store
from tiny_bundle import write_tiny_bundle

PREDICT = [sys.executable, "-m", "rnn_sentiment.serving.predict"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_tiny_bundle(tmp_path_factory.mktemp("model") / "model.pt")


@pytest.mark.parametrize(
    "content", [b"just some notes\n", bytes(range(256)) * 8, b"PK\x03\x04 not a zip"]
)
def test_a_file_that_is_no_model_bundle_is_named_as_such_without_unsafe_advice(tmp_path, content):
    model = tmp_path / "downloaded.bin"
    model.write_bytes(content)
    result = run([*PREDICT, "--model", str(model), "fine"], tmp_path, check=False)
    assert result.returncode == 2
    assert (
        result.stderr == f"error: {model}: not a model bundle of this project; refused to load it\n"
    )


def predicted(capsys, bundle, argv: list[str]) -> tuple[list[dict], str]:
    predict.main(["--model", str(bundle), "--format", "jsonl", *argv])
    out, err = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines()], err


def answered_as_empty(rows: list[dict], texts: list[str]) -> bool:
    """One row per review, in order; the blank ones labelled empty with probability 0.5, the others not."""
    return [row["text"] for row in rows] == texts and all(
        (row["label"], row["probability"]) == ("empty", 0.5)
        if not text.strip()
        else row["label"] != "empty"
        for row, text in zip(rows, texts, strict=True)
    )


REVIEWS = ["great !", "", "awful .", " \t", "great"]


def test_blank_reviews_are_answered_as_empty_from_arguments_a_file_and_stdin(
    bundle, tmp_path, capsys, monkeypatch
):
    rows, err = predicted(capsys, bundle, REVIEWS)
    assert answered_as_empty(rows, REVIEWS) and "; 2 empty or whitespace only: empty 0.5" in err

    reviews = tmp_path / "reviews.txt"
    reviews.write_text("\n".join(REVIEWS) + "\n")
    assert answered_as_empty(predicted(capsys, bundle, ["--file", str(reviews)])[0], REVIEWS)

    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(("\n".join(REVIEWS) + "\n").encode()))
    )
    assert answered_as_empty(predicted(capsys, bundle, [])[0], REVIEWS)


def test_the_served_model_answers_blank_reviews_as_empty(bundle):
    model = served_model.RawTextSentimentModel()
    model.predictor = Predictor.load(bundle)
    out = model.predict(None, np.array(REVIEWS))
    rows = [
        {"text": text, **row} for text, row in zip(REVIEWS, out.to_dict("records"), strict=True)
    ]
    assert len(out) == len(REVIEWS) and answered_as_empty(rows, REVIEWS)


@pytest.mark.parametrize(
    "model_input",
    [
        "a single string",
        np.array("a single string"),
        {"text": "a single string"},
        {"text": np.array("a single string")},
    ],
)
def test_one_string_is_one_text_to_the_served_model(model_input):
    """``np.array("...")``: what the scoring server makes of ``{"inputs": "..."}``."""
    assert served_model.texts_from(model_input) == ["a single string"]


def test_defining_the_served_model_gives_no_warning():
    """MLflow checks predict's type hints when the class is defined, i.e. each time it loads the model."""
    code = f"import runpy; runpy.run_path({str(logged_models.MODEL_CODE)!r})"
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr


def test_an_unreachable_tracking_store_is_one_complete_line_naming_the_cause(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once it is closed
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead)
    import mlflow

    previous = mlflow.get_tracking_uri()
    try:
        with pytest.raises(PipelineError) as refused:
            store.connect("any")
    finally:
        mlflow.set_tracking_uri(previous)
    message = str(refused.value)
    assert message.startswith(f"MLflow tracking store {dead} failed: ") and "\n" not in message
    assert message.endswith("Connection refused"), message
