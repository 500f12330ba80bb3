"""MLflow "model from code": raw review text in, label and positive-class probability out.

MLflow loads this file by running it, not by unpickling an object, and the network is rebuilt
from code plus a ``weights_only`` state dict, so loading the model cannot execute planted code.
Tokenizer and vocabulary travel inside the model (``code/`` and the bundle artifact).
"""

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from rnn_sentiment.model import runtime
from rnn_sentiment.model.predictor import Predictor, label_frame

TEXT = "text"


def refused(message: str) -> MlflowException:
    """An error the scoring server answers with HTTP 400 and this message."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def items_of(value) -> list:
    """One string, or a 0-d array (what the scoring server makes of ``{"inputs": "..."}``), is one item."""
    if isinstance(value, np.ndarray):
        if value.ndim > 1:
            raise refused(f"expected a list of texts, got an array of shape {value.shape}")
        return np.atleast_1d(value).tolist()
    return [value] if isinstance(value, str) else list(value)


def texts_from(model_input) -> list[str]:
    """The texts to score: the ``text`` column of a table (or its only column), a list, an array or
    one string. The model has no input schema on purpose: MLflow's enforcement would keep a
    table's first column whatever its name, and cast numbers and nulls to strings."""
    if isinstance(model_input, pd.DataFrame):
        columns = [str(c) for c in model_input.columns]
        if TEXT in model_input.columns:
            items = model_input[TEXT].tolist()
        elif len(columns) == 1:
            items = model_input.iloc[:, 0].tolist()
        else:
            raise refused(
                f"input has columns {columns} and none is named {TEXT!r}; "
                f"send a {TEXT!r} column or a single column of texts"
            )
    elif isinstance(
        model_input, dict
    ):  # {"instances": [{"text": ...}]} and {"inputs": {"text": [...]}}
        if TEXT not in model_input:
            raise refused(
                f"input has keys {[str(k) for k in model_input]} and none is named {TEXT!r}"
            )
        items = items_of(model_input[TEXT])
    elif isinstance(model_input, (np.ndarray, str, pd.Series, list, tuple)):
        items = items_of(model_input)
    else:
        raise refused(
            f"expected texts, a list of texts or a table with a {TEXT!r} column; "
            f"got {type(model_input).__name__}"
        )
    for number, item in enumerate(items):
        if not isinstance(item, str):
            raise refused(f"input item {number} is not a text: {item!r} ({type(item).__name__})")
    return [str(item) for item in items]


class RawTextSentimentModel(PythonModel):
    def load_context(self, context):
        runtime.configure_threads(0)
        self.predictor = Predictor.load(context.artifacts["bundle"])

    # pd.DataFrame is one of the hints MLflow takes without validating or converting the input
    # (which texts_from does, also for the arrays, dicts and strings the scoring server passes);
    # with no hint at all, MLflow warns on every load.
    def predict(
        self, context, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        texts = texts_from(model_input)
        return label_frame(texts, self.predictor.predict_proba(texts))


mlflow.models.set_model(RawTextSentimentModel())
