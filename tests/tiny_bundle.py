"""A model bundle small enough to build in milliseconds: an untrained GRU over a seven-word vocabulary."""

from pathlib import Path

import pandas as pd
import torch

from rnn_sentiment.core.params import EncodeParams, ModelParams
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.torch_files import save_bundle

NGRAMS = ["great", "awful", "great !", "awful ."]


def write_tiny_bundle(path: Path) -> Path:
    torch.manual_seed(0)
    vocab = pd.Index(["<pad>", "<unk>", "great", "awful", "!", ".", ","])
    model = SentimentClassifier(
        len(vocab),
        len(NGRAMS),
        ModelParams(
            cell="gru",
            embed_dim=8,
            hidden_dim=8,
            num_layers=2,
            bidirectional=True,
            dropout=0.0,
            pooling="max_mean",
        ),
    )
    save_bundle(path, model, vocab, NGRAMS, EncodeParams(max_len=20, truncate="head_tail"))
    return path
