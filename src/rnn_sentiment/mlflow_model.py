"""Logging the trained classifier to MLflow as a raw-text pyfunc model."""

import warnings
from importlib.metadata import version
from pathlib import Path

import pandas as pd

import rnn_sentiment

PACKAGE_DIR = Path(rnn_sentiment.__file__).parent
MODEL_CODE = PACKAGE_DIR / "pyfunc_model.py"
EXAMPLE = pd.DataFrame({"text": ["This is great!", "I hate it"]})
ARTIFACT_NAME = "model"


def requirements() -> list[str]:
    """Pinned explicitly: MLflow's inference of them costs ~18 s per run."""
    torch_version = version("torch").split("+")[0]
    return [f"torch=={torch_version}", f"mlflow=={version('mlflow')}", f"pandas=={version('pandas')}",
            f"numpy=={version('numpy')}", f"pyyaml=={version('pyyaml')}"]


def log_model(bundle: Path):
    """Log ``bundle`` (models/model.pt) with its code; returns MLflow's ModelInfo."""
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    signature = ModelSignature(
        inputs=Schema([ColSpec("string", "text")]),
        outputs=Schema([ColSpec("string", "label"), ColSpec("double", "probability")]),
    )
    with warnings.catch_warnings():
        # MLflow nags for type hints on predict(); the explicit signature below does that job.
        warnings.filterwarnings("ignore", message="Add type hints")
        return mlflow.pyfunc.log_model(
            name=ARTIFACT_NAME,
            python_model=str(MODEL_CODE),
            artifacts={"bundle": str(bundle)},
            code_paths=[str(PACKAGE_DIR)],
            signature=signature,
            input_example=EXAMPLE,
            pip_requirements=requirements(),
        )
