"""Messages that say what is wrong and what to do, in one line: a file that is no model bundle,
a blank review (on the command line, in a file, on stdin and at the served model), one string
sent to the served model, an unreachable tracking store, and loading the served model."""

import io
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import run
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.serving import predict
from rnn_sentiment.tracking import logged_models, served_model, store
from tiny_bundle import write_tiny_bundle

PREDICT = [sys.executable, "-m", "rnn_sentiment.serving.predict"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_tiny_bundle(tmp_path_factory.mktemp("model") / "model.pt")


@pytest.mark.parametrize("content", [b"just some notes\n", bytes(range(256)) * 8, b"PK\x03\x04 not a zip"])
def test_a_file_that_is_no_model_bundle_is_named_as_such_without_unsafe_advice(tmp_path, content):
    model = tmp_path / "downloaded.bin"
    model.write_bytes(content)
    result = run([*PREDICT, "--model", str(model), "fine"], tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr == f"error: {model}: not a model bundle of this project; refused to load it\n"


@pytest.mark.parametrize("argv, stdin, message", [
    (["great !", "   "], "", "arguments: review 2 is only whitespace; give every review some text"),
    (["great !", ""], "", "arguments: review 2 is empty; give every review some text"),
    ([], "great !\n\nawful\n", "stdin: line 2 is empty; give every review some text"),
    ([], "great !\n \t\n", "stdin: line 2 is only whitespace; give every review some text"),
])
def test_a_blank_review_is_refused_naming_it(bundle, monkeypatch, argv, stdin, message):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    with pytest.raises(PipelineError) as refused:
        predict.main(["--model", str(bundle), *argv])
    assert str(refused.value) == message


def test_a_blank_line_in_a_file_is_refused_naming_file_and_line(bundle, tmp_path):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("great !\nawful .\n\ngreat\n")
    with pytest.raises(PipelineError) as refused:
        predict.main(["--model", str(bundle), "--file", str(reviews)])
    assert str(refused.value) == f"{reviews}: line 3 is empty; give every review some text"


@pytest.mark.parametrize("model_input, message", [
    (["great !", ""], "input item 1 is empty: send the review's text"),
    (np.array(["great !", " \n"]), "input item 1 is only whitespace: send the review's text"),
    ({"text": ["", "great"]}, "input item 0 is empty: send the review's text"),
])
def test_the_served_model_refuses_a_blank_review_naming_the_item(model_input, message):
    with pytest.raises(served_model.MlflowException) as refused:
        served_model.texts_from(model_input)
    assert refused.value.message == message


@pytest.mark.parametrize("model_input", [
    "a single string", np.array("a single string"), {"text": "a single string"}, {"text": np.array("a single string")},
])
def test_one_string_is_one_text_to_the_served_model(model_input):
    """``np.array("...")``: what the scoring server makes of ``{"inputs": "..."}``."""
    assert served_model.texts_from(model_input) == ["a single string"]


def test_defining_the_served_model_gives_no_warning():
    """MLflow checks predict's type hints when the class is defined, i.e. each time it loads the model."""
    code = f"import runpy; runpy.run_path({str(logged_models.MODEL_CODE)!r})"
    result = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
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
