"""Logging the trained classifier to MLflow, twice over.

``model``: a raw-text pyfunc (tokenizer and vocabulary inside) that is registered and served.
``network``: the bare PyTorch network with ``mlflow.pytorch``, for users who feed their own
token and n-gram ids; saved as torch.export's ``pt2`` so loading it unpickles nothing (MLflow
checks the archive), with ``vocab.tsv`` and ``ngrams.tsv`` beside it to map tokens to ids.
"""

import json
import shutil
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path

import pandas as pd

import rnn_sentiment

PACKAGE_DIR = Path(rnn_sentiment.__file__).parent
MODEL_CODE = Path(__file__).with_name("served_model.py")
# The subpackages the served model imports; train depends on them.
SHIPPED = ("core", "text", "model")
EXAMPLE = pd.DataFrame({"text": ["This is great!", "I hate it"]})
ARTIFACT_NAME = "model"
NETWORK_NAME = "network"


def requirements() -> list[str]:
    """Pinned explicitly: MLflow's inference of them costs ~18 s per run."""
    torch_version = version("torch").split("+")[0]
    return [
        f"torch=={torch_version}",
        f"mlflow=={version('mlflow')}",
        f"pandas=={version('pandas')}",
        f"numpy=={version('numpy')}",
        f"pyyaml=={version('pyyaml')}",
        f"pydantic=={version('pydantic')}",
    ]


def shipped_package(scratch: Path) -> Path:
    """A copy of the package holding only what the served model runs, for ``code_paths``."""
    package = scratch / "rnn_sentiment"
    package.mkdir()
    shutil.copy(PACKAGE_DIR / "__init__.py", package)
    for name in SHIPPED:
        shutil.copytree(
            PACKAGE_DIR / name, package / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    return package


def log_model(bundle: Path):
    """Log ``bundle`` (models/model.pt) with its code; returns MLflow's ModelInfo."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    # Outputs only: the served model checks its input itself (served_model.texts_from).
    signature = ModelSignature(
        outputs=Schema([ColSpec("string", "label"), ColSpec("double", "probability")])
    )
    with tempfile.TemporaryDirectory() as scratch:
        return mlflow.pyfunc.log_model(
            name=ARTIFACT_NAME,
            python_model=str(MODEL_CODE),
            artifacts={"bundle": str(bundle)},
            code_paths=[str(shipped_package(Path(scratch)))],
            signature=signature,
            input_example=EXAMPLE,
            pip_requirements=requirements(),
        )


def log_network(model, vocab_file: Path, ngrams_file: Path, max_len: int):
    """Log the network with ``mlflow.pytorch`` as pt2: ids [batch, max_len], lengths [batch],
    ngram_ids [n] and ngram_offsets [batch + 1] in (encode's arrays), logits out.

    torch.export fixes the time dimension, so ids are padded to ``encode.max_len`` exactly as
    the encode stage writes them; the batch and n-gram dimensions stay free.
    """
    import mlflow.pytorch
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    from rnn_sentiment.text.vocab import PAD_ID, UNK_ID

    signature = ModelSignature(
        inputs=Schema(
            [
                TensorSpec(np.dtype("int64"), (-1, max_len), "ids"),
                TensorSpec(np.dtype("int64"), (-1,), "lengths"),
                TensorSpec(np.dtype("int64"), (-1,), "ngram_ids"),
                TensorSpec(np.dtype("int64"), (-1,), "ngram_offsets"),
            ]
        ),
        outputs=Schema([TensorSpec(np.dtype("float32"), (-1,), "logit")]),
    )
    ids = np.full((2, max_len), PAD_ID, dtype=np.int64)
    ids[0, :2], ids[1, :1] = UNK_ID, UNK_ID
    example = {
        "ids": ids,
        "lengths": np.array([2, 1]),  # sizes all differ, so none is taken for another
        "ngram_ids": np.arange(5) % max(model.ngram_features, 1),
        "ngram_offsets": np.array([0, 3, 5]),
    }
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # MLflow traces the export with a list-of-arrays example but cannot store one in MLmodel,
        # so the example also travels as a file beside the vocabulary and the n-gram table.
        stored = Path(scratch) / "input_example.json"
        stored.write_text(json.dumps({name: value.tolist() for name, value in example.items()}))
        warnings.simplefilter("ignore")  # torch.export's notes on specialised dimensions
        return mlflow.pytorch.log_model(
            model.eval(),
            name=NETWORK_NAME,
            signature=signature,
            input_example=list(example.values()),
            serialization_format="pt2",
            extra_files=[str(vocab_file), str(ngrams_file), str(stored)],
            pip_requirements=requirements()[:1],
        )
