"""A digest of everything a training run depends on, so a checkpoint is resumed only by its own run."""

import hashlib
import json
from pathlib import Path

from rnn_sentiment.core import params


def training_fingerprint(config: params.Params, inputs: list[Path]) -> str:
    flat = params.flatten(config)
    relevant = {k: v for k, v in flat.items() if k.split(".")[0] in ("seed", "model", "train")}
    relevant.pop("train.device", None)
    digest = hashlib.sha256(json.dumps(relevant, sort_keys=True).encode())
    for path in sorted(inputs):
        with open(path, "rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").hexdigest().encode())
    return digest.hexdigest()
