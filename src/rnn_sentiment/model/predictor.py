"""Raw text in, positive-class probabilities out: what predict, evaluate and the served model share."""

from dataclasses import dataclass
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
# An empty or whitespace-only review has no evidence either way: it is answered, not refused or
# dropped, so a batch keeps one row per review.
EMPTY_LABEL, EMPTY_PROBABILITY = "empty", 0.5
RETRAIN = "retrain it with `dvc repro train`"


@dataclass
class PathScores:
    # [reviews, paths]: the recurrent path's logit, then the n-gram path's (when on)
    path_logits: np.ndarray
    logits: np.ndarray  # [reviews]: the combined model's
    probabilities: np.ndarray  # [reviews]: the combined model's P(positive)


class Predictor:
    """A bundle's network, vocabulary and encoding settings, ready for raw text.

    Safe to share between threads (the scoring server's workers do): the network is placed on
    its device here, once; a call only reads it. Moving it per call would rebuild the recurrent
    layer's flattened weights while another thread's forward reads them."""

    def __init__(
        self,
        model: SentimentClassifier,
        vocab: pd.Index,
        ngrams: NgramIndex,
        encode: EncodeParams,
        batch_size: int = 256,
        device: torch.device = torch.device("cpu"),
    ):
        self.device = device
        self.model = model.to(device).eval()
        self.vocab = vocab
        self.ngrams = ngrams
        self.encode = encode
        self.batch_size = batch_size

    @classmethod
    def load(cls, path: str | Path, device: torch.device = torch.device("cpu")) -> "Predictor":
        path = Path(path)
        bundle = torch_files.load_bundle(path)
        torch_files.check_layout(
            path, "model bundle's params", ModelParams.model_fields, bundle["model"], RETRAIN
        )
        model = SentimentClassifier(
            len(bundle["vocab"]), len(bundle["ngrams"]), ModelParams(**bundle["model"])
        )
        torch_files.check_layout(
            path, "model bundle's weights", model.state_dict(), bundle["state_dict"], RETRAIN
        )
        model.load_state_dict(bundle["state_dict"])
        torch_files.check_layout(
            path,
            "model bundle's encode settings",
            EncodeParams.model_fields,
            bundle["encode"],
            RETRAIN,
        )
        return cls(
            model,
            pd.Index(bundle["vocab"]),
            NgramIndex(bundle["ngrams"]),
            EncodeParams(**bundle["encode"]),
            device=device,
        )

    def encode_texts(self, texts: list[str]) -> encoding.EncodedSplit:
        # A lone surrogate (JSON allows "\ud800") cannot be stored as UTF-8: it becomes "?".
        valid = [
            t if t.isascii() else t.encode("utf-8", "replace").decode("utf-8")
            for t in map(str, texts)
        ]
        tokens = tokenizer.tokenize_series(
            pd.Series(valid, dtype=object).astype(str), self.encode.max_len
        )
        return encoding.encode(
            tokens,
            np.zeros(len(texts)),
            self.vocab,
            self.encode.max_len,
            self.encode.truncate,
            self.ngrams,
        )

    @torch.inference_mode()
    def predict_encoded(self, split: encoding.EncodedSplit) -> np.ndarray:
        """Probabilities in the split's row order (batches run longest-first to limit padding)."""
        probabilities = np.empty(len(split.lengths), dtype=np.float64)
        for batch in Batcher(split, self.device, with_ngrams=True).batches(self.batch_size):
            logits = self.model(*batch.inputs)
            probabilities[batch.rows] = torch.sigmoid(logits.float()).cpu().numpy()
        return probabilities

    @torch.inference_mode()
    def score_paths(self, split: encoding.EncodedSplit) -> "PathScores":
        """Each path's logit and the combined one, with the combined probability (as ``predict_encoded``
        gives it), in the split's row order: one forward pass."""
        paths = self.model.ngrams is not None
        scores = PathScores(
            np.empty((len(split.lengths), 1 + paths)),
            np.empty(len(split.lengths)),
            np.empty(len(split.lengths)),
        )
        for batch in Batcher(split, self.device, with_ngrams=True).batches(self.batch_size):
            path_logits = self.model.path_logits(*batch.inputs)
            # the model's forward, its parts kept
            logits = self.model.combine(path_logits).squeeze(-1)
            scores.path_logits[batch.rows] = path_logits.double().cpu().numpy()
            scores.logits[batch.rows] = logits.double().cpu().numpy()
            scores.probabilities[batch.rows] = torch.sigmoid(logits.float()).cpu().numpy()
        return scores

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not len(texts):
            return np.empty(0)
        probabilities = self.predict_encoded(self.encode_texts(texts))
        probabilities[blank(texts)] = EMPTY_PROBABILITY
        return probabilities


def blank(texts: list[str]) -> np.ndarray:
    """Which texts are empty or whitespace only."""
    return np.array([not str(text).strip() for text in texts], dtype=bool)


def label_frame(texts: list[str], probabilities: np.ndarray) -> pd.DataFrame:
    labels = np.where(probabilities >= 0.5, LABELS[1], LABELS[0])
    return pd.DataFrame(
        {
            "label": np.where(blank(texts), EMPTY_LABEL, labels),
            "probability": probabilities,
        }
    )
