"""MLflow "model from code": raw review text in, label and positive-class probability out.

MLflow loads this file by running it, not by unpickling an object, and the network is rebuilt
from code plus a ``weights_only`` state dict, so loading the model cannot execute planted code.
Tokenizer and vocabulary travel inside the model (``code/`` and the bundle artifact).
"""

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.model import runtime
from rnn_sentiment.model.predictor import Predictor, label_frame


def texts_from(model_input) -> list[str]:
    """Accept a DataFrame with a ``text`` column (or one column), a Series, a list or one string."""
    if isinstance(model_input, pd.DataFrame):
        if "text" in model_input.columns:
            column = model_input["text"]
        elif model_input.shape[1] == 1:
            column = model_input.iloc[:, 0]
        else:
            raise PipelineError(f"input needs a 'text' column; got columns {list(model_input.columns)}")
        return ["" if v is None else str(v) for v in column.tolist()]
    if isinstance(model_input, str):
        return [model_input]
    if isinstance(model_input, (pd.Series, list, tuple)):
        return ["" if v is None else str(v) for v in list(model_input)]
    raise PipelineError(f"input must be text, a list of texts or a DataFrame with a 'text' column; "
                        f"got {type(model_input).__name__}")


class RawTextSentimentModel(PythonModel):
    def load_context(self, context):
        runtime.configure_threads(0)
        self.predictor = Predictor.load(context.artifacts["bundle"])

    def predict(self, context, model_input, params=None):
        return label_frame(self.predictor.predict_proba(texts_from(model_input)))


mlflow.models.set_model(RawTextSentimentModel())
