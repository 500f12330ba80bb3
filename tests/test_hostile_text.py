"""Hostile text at predict time: arbitrary Unicode, control characters, empty and 5 MB reviews.

Property-based (hypothesis) over the tokenizer, the Predictor behind the predict command and
the pyfunc, and the predict command itself: a defined output or a clear one-line error, never a
crash, and work bounded by ``encode.max_len`` whatever the text's size.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run
from helpers import tokenize
from rnn_sentiment.core.params import EncodeParams, ModelParams
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.model.torch_files import save_bundle
from rnn_sentiment.text import tokenizer
from rnn_sentiment.text.ngrams import NgramIndex

MAX_LEN = 50
# surrogates too
ANY_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=300)
HOSTILE = st.one_of(
    ANY_TEXT, st.sampled_from(["", " ", "\x00", "\n\r\t", "\u202e\u200b", "<br /><br />", "\ud800"])
)
NGRAMS = ["great", "awful", "great !", "awful ."]
FIVE_MB = ("An endless review. " * 276_000)[: 5 * 1024 * 1024]


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    torch.manual_seed(0)
    vocab = pd.Index(["<pad>", "<unk>", "great", "awful", "!", "."])
    model = SentimentClassifier(
        len(vocab),
        len(NGRAMS),
        ModelParams(
            cell="gru",
            embed_dim=8,
            hidden_dim=8,
            num_layers=1,
            bidirectional=True,
            dropout=0.0,
            pooling="max_mean",
        ),
    )
    return Predictor(
        model, vocab, NgramIndex(NGRAMS), EncodeParams(max_len=MAX_LEN, truncate="head_tail")
    )


@given(ANY_TEXT)
def test_tokenizer_gives_tokens_without_whitespace_for_any_text(text):
    valid = text.encode("utf-8", "replace").decode("utf-8")
    tokens = tokenize(valid)
    assert all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in tokens)


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None
)
@given(st.lists(HOSTILE, max_size=6))
def test_predictor_gives_one_probability_per_text_for_any_input(predictor, texts):
    probabilities = predictor.predict_proba(texts)
    assert probabilities.shape == (len(texts),)
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_a_5mb_review_is_clipped_before_tokenizing(predictor):
    clipped = tokenizer.clip(pd.Series([FIVE_MB]), MAX_LEN)[0]
    assert len(clipped) <= 2 * MAX_LEN * tokenizer.CHARS_PER_TOKEN + 1
    tokens = tokenizer.tokenize_series(pd.Series([FIVE_MB]), MAX_LEN)[0]
    assert len(tokens) <= 2 * MAX_LEN * tokenizer.CHARS_PER_TOKEN
    started = time.perf_counter()
    assert predictor.predict_proba([FIVE_MB, "great!"]).shape == (2,)
    assert time.perf_counter() - started < 5, "work is bounded by max_len, not by the 5 MB"


def test_clipping_keeps_head_and_tail_so_truncation_sees_the_same_tokens():
    words = " ".join(f"w{i}" for i in range(20_000))
    full = tokenize(words)
    clipped = tokenizer.tokenize_series(pd.Series([words]), 10)[0]
    assert clipped[:5] == full[:5] and clipped[-5:] == full[-5:]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, predictor):
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_bundle(path, predictor.model, predictor.vocab, NGRAMS, predictor.encode)
    return path


def test_predict_command_on_hostile_stdin(bundle):
    lines = ["", "   ", "\x00\x01\x1b[31m", "\u202eevil\u200b", "😀" * 1000, "great!", FIVE_MB]
    result = run(
        [
            sys.executable,
            "-m",
            "rnn_sentiment.serving.predict",
            "--model",
            str(bundle),
            "--format",
            "jsonl",
        ],
        bundle.parent,
        stdin="\n".join(lines) + "\n",
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 7, "every line gets one prediction"
    assert [r["label"] for r in rows[:2]] == ["empty", "empty"], "blank lines are answered as empty"
    assert all(
        r["label"] in ("negative", "positive") and 0 <= r["probability"] <= 1 for r in rows[2:]
    )


def test_predict_command_refuses_non_utf8_stdin_in_one_line(bundle):
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "rnn_sentiment.serving.predict", "--model", str(bundle)],
        input=b"fine\ncaf\xe9\n",
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.decode() == "error: stdin: not UTF-8 (bad byte at offset 8)\n"
