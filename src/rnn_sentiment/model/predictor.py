"""Raw text in, positive-class probabilities out: what predict, evaluate and the served model share."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnn_sentiment.core.params import EncodeParams, ModelParams
from rnn_sentiment.model import torch_files
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text import encoding, tokenizer
from rnn_sentiment.text.ngrams import NgramIndex

LABELS = ("negative", "positive")


class Predictor:
    """A bundle's network, vocabulary and encoding settings, ready for raw text."""

    def __init__(self, model: SentimentClassifier, vocab: pd.Index, ngrams: NgramIndex, encode: EncodeParams,
                 batch_size: int = 256):
        self.model = model.eval()
        self.vocab = vocab
        self.ngrams = ngrams
        self.encode = encode
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | Path) -> "Predictor":
        bundle = torch_files.load_bundle(Path(path))
        model = SentimentClassifier(len(bundle["vocab"]), len(bundle["ngrams"]), ModelParams(**bundle["model"]))
        model.load_state_dict(bundle["state_dict"])
        return cls(model, pd.Index(bundle["vocab"]), NgramIndex(bundle["ngrams"]), EncodeParams(**bundle["encode"]))

    def encode_texts(self, texts: list[str]) -> encoding.EncodedSplit:
        # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8: it becomes "?".
        valid = [t if t.isascii() else t.encode("utf-8", "replace").decode("utf-8") for t in map(str, texts)]
        tokens = tokenizer.tokenize_series(pd.Series(valid, dtype=object).astype(str), self.encode.max_len)
        return encoding.encode(tokens, np.zeros(len(texts)), self.vocab, self.encode.max_len, self.encode.truncate,
                               self.ngrams)

    @torch.inference_mode()
    def predict_encoded(self, split: encoding.EncodedSplit, device: torch.device = torch.device("cpu")) -> np.ndarray:
        """Probabilities in the split's row order (batches run longest-first to limit padding)."""
        self.model.to(device)
        probabilities = np.empty(len(split.lengths), dtype=np.float64)
        for batch in Batcher(split, device, with_ngrams=True).batches(self.batch_size):
            logits = self.model(*batch.inputs)
            probabilities[batch.rows] = torch.sigmoid(logits.float()).cpu().numpy()
        return probabilities

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.predict_encoded(self.encode_texts(texts)) if len(texts) else np.empty(0)


def label_frame(probabilities: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "label": np.where(probabilities >= 0.5, LABELS[1], LABELS[0]),
        "probability": probabilities,
    })
