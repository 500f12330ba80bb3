"""A trained classifier as one self-contained file: network config, weights and vocabulary.

``models/model.pt`` holds only tensors, strings and numbers, and is read with
``torch.load(weights_only=True)``: loading it cannot run code planted in the file.
"""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnn_sentiment import encoding, tokenizer
from rnn_sentiment.atomic import atomic_path
from rnn_sentiment.batching import Batcher
from rnn_sentiment.errors import PipelineError, first_line
from rnn_sentiment.model import RNNClassifier
from rnn_sentiment.params import EncodeParams, ModelParams

FORMAT = "rnn-sentiment/1"
LABELS = ("negative", "positive")


def save_bundle(path: Path, model: RNNClassifier, vocab: pd.Index, encode: EncodeParams) -> None:
    bundle = {
        "format": FORMAT,
        "model": dataclasses.asdict(model.config),
        "encode": dataclasses.asdict(encode),
        "vocab": list(vocab),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as tmp:
        torch.save(bundle, tmp)


def load_checkpoint(path: Path) -> dict:
    """``torch.load`` restricted to tensors and plain containers; anything else is refused."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run `dvc repro train` first") from None
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, EOFError, ... here
        raise PipelineError(f"{path}: refused to load, not a safe checkpoint ({first_line(error, 200)})") from None


class Predictor:
    """Raw text in, positive-class probabilities out; what predict, evaluate and the pyfunc share."""

    def __init__(self, model: RNNClassifier, vocab: pd.Index, encode: EncodeParams, batch_size: int = 256):
        self.model = model.eval()
        self.vocab = vocab
        self.encode = encode
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | Path) -> "Predictor":
        bundle = load_checkpoint(Path(path))
        if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
            raise PipelineError(f"{path}: not an {FORMAT} model bundle")
        model = RNNClassifier(len(bundle["vocab"]), ModelParams(**bundle["model"]))
        model.load_state_dict(bundle["state_dict"])
        return cls(model, pd.Index(bundle["vocab"]), EncodeParams(**bundle["encode"]))

    def encode_texts(self, texts: list[str]) -> encoding.EncodedSplit:
        # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8: it becomes "?".
        valid = [t if t.isascii() else t.encode("utf-8", "replace").decode("utf-8") for t in map(str, texts)]
        tokens = tokenizer.tokenize_series(pd.Series(valid, dtype=object).astype(str), self.encode.max_len)
        return encoding.encode(tokens, np.zeros(len(texts)), self.vocab, self.encode.max_len, self.encode.truncate)

    @torch.inference_mode()
    def predict_encoded(self, split: encoding.EncodedSplit, device: torch.device = torch.device("cpu")) -> np.ndarray:
        """Probabilities in the split's row order (batches run longest-first to limit padding)."""
        self.model.to(device)
        probabilities = np.empty(len(split.lengths), dtype=np.float64)
        for index, ids, lengths, _ in Batcher(split, device).batches(self.batch_size):
            logits = self.model(ids, lengths)
            probabilities[index] = torch.sigmoid(logits.float()).cpu().numpy()
        return probabilities

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.predict_encoded(self.encode_texts(texts)) if len(texts) else np.empty(0)


def label_frame(probabilities: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "label": np.where(probabilities >= 0.5, LABELS[1], LABELS[0]),
        "probability": probabilities,
    })
