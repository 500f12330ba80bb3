"""The project's two torch files, written atomically and read without unpickling objects.

``models/model.pt`` (the bundle: network config, weights, vocabulary, n-gram table and encoding
settings) and
``models/checkpoint.pt`` (resume state) hold only tensors, strings and numbers, and are read with
``torch.load(weights_only=True)``: loading either cannot run code planted in the file.
"""

from pathlib import Path

import pandas as pd
import torch

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.files import atomic_path
from rnn_sentiment.core.params import EncodeParams

BUNDLE_FORMAT = "rnn-sentiment/2"
SHOWN = 5  # keys named when a layout differs


def save(path: Path, content: dict) -> None:
    """Written through a file object: given a path, torch names the zip's folder after the file,
    here a random temporary name, so the same content would not give the same bytes."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(content, handle)


def load(path: Path, what: str = "checkpoint") -> dict:
    """``torch.load`` restricted to tensors and plain containers; anything else is refused as not
    being ``what`` (torch's own message would advise ``weights_only=False``, which runs the file's code)."""
    if path.is_dir():
        raise PipelineError(f"{path}: is a folder, not a model file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run `dvc repro train` first") from None
    except Exception:  # torch raises UnpicklingError, RuntimeError, EOFError, ... here
        content = None
    if not isinstance(content, dict):
        raise PipelineError(f"{path}: not a {what} of this project; refused to load it")
    return content


def check_layout(path: Path, what: str, expected, found, remedy: str) -> None:
    """Refuse, in one line naming the keys that differ, a file whose ``what`` holds other keys than
    this code's layout ``expected``: one written by an older (or newer) version of the model."""
    missing, unknown = (
        [k for k in expected if k not in found],
        [k for k in found if k not in expected],
    )
    if missing or unknown:
        differs = "; ".join(
            f"{name}: {', '.join(map(str, keys[:SHOWN]))}"
            + (f" (+{len(keys) - SHOWN} more)" if len(keys) > SHOWN else "")
            for name, keys in (("missing", missing), ("unknown", unknown))
            if keys
        )
        raise PipelineError(f"{path}: {what} of another model layout ({differs}); {remedy}")


def save_bundle(
    path: Path, model: torch.nn.Module, vocab: pd.Index, ngrams: list[str], encode: EncodeParams
) -> None:
    save(
        path,
        {
            "format": BUNDLE_FORMAT,
            "model": model.config.model_dump(),
            "encode": encode.model_dump(),
            "vocab": list(vocab),
            "ngrams": list(ngrams),
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        },
    )


def load_bundle(path: Path) -> dict:
    bundle = load(path, "model bundle")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise PipelineError(f"{path}: not an {BUNDLE_FORMAT} model bundle")
    return bundle
