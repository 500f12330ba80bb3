"""Typed, range-checked, closed view of params.yaml, as pydantic models.

Unknown keys are refused and every value is checked for type and range, so a typo or an
out-of-range value fails in one line naming the parameter, in pydantic's words
(``params.yaml: model.hidden_dim: Input should be greater than or equal to 1, got 0``) instead of
deep inside torch.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from rnn_sentiment.core import paths
from rnn_sentiment.core.errors import PipelineError, first_line

NonEmpty = Annotated[str, StringConstraints(pattern=r"\S")]


class _Section(BaseModel):
    # strict: "64" is not an integer and 1 is not true; an integer is still accepted for a float.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class DataParams(_Section):
    source: NonEmpty
    url: str
    sha256: str
    text_column: NonEmpty
    label_column: NonEmpty
    split_column: str
    test_fraction: Annotated[float, Field(gt=0.0, le=1.0)]
    val_fraction: Annotated[float, Field(gt=0.0, le=0.9)]
    max_train: Annotated[int, Field(ge=0)]
    max_test: Annotated[int, Field(ge=0)]


class VocabParams(_Section):
    min_freq: Annotated[int, Field(ge=1)]
    max_size: Annotated[int, Field(ge=3)]


class EncodeParams(_Section):
    max_len: Annotated[int, Field(ge=1, le=100_000)]
    truncate: Literal["head", "tail", "head_tail"]


class NgramParams(_Section):
    order: Annotated[int, Field(ge=1, le=3)]
    min_df: Annotated[int, Field(ge=1)]
    max_features: Annotated[int, Field(ge=0, le=50_000_000)]
    max_counted: Annotated[int, Field(ge=2, le=1_000_000_000)]

    @model_validator(mode="after")
    def _room_for_the_kept(self) -> "NgramParams":
        if self.max_counted < 2 * self.max_features:
            raise ValueError(
                f"ngrams.max_counted is {self.max_counted}; it must be at least twice "
                f"ngrams.max_features ({self.max_features}), since a prune keeps half"
            )
        return self


class ModelParams(_Section):
    cell: Literal["rnn", "gru", "lstm"]
    embed_dim: Annotated[int, Field(ge=1, le=4096)]
    hidden_dim: Annotated[int, Field(ge=1, le=4096)]
    num_layers: Annotated[int, Field(ge=1, le=16)]
    bidirectional: bool
    dropout: Annotated[float, Field(ge=0.0, le=0.95)]
    pooling: Literal["last", "max", "mean", "max_mean"]


class TrainParams(_Section):
    epochs: Annotated[int, Field(ge=1, le=10_000)]
    batch_size: Annotated[int, Field(ge=1, le=65_536)]
    epoch_batches: Annotated[int, Field(ge=0)]
    lr: Annotated[float, Field(gt=0.0, le=10.0)]
    schedule: Literal["constant", "one_cycle"]
    ngram_c: Annotated[
        list[Annotated[float, Field(gt=0.0, le=1e6)]], Field(min_length=1, max_length=20)
    ]
    ngram_prior: Annotated[
        list[Annotated[float, Field(ge=0.0, le=100.0)]], Field(min_length=1, max_length=20)
    ]
    ngram_reviews: Annotated[int, Field(ge=1, le=100_000_000)]
    weight_decay: Annotated[float, Field(ge=0.0, le=1.0)]
    clip_grad_norm: Annotated[float, Field(ge=0.0)]
    patience: Annotated[int, Field(ge=1)]
    crop_share: Annotated[float, Field(ge=0.0, le=1.0)]
    ema_decay: Annotated[float, Field(ge=0.0, le=0.9999)]
    adversarial: Annotated[float, Field(ge=0.0, le=1.0)]
    device: Literal["auto", "cpu", "cuda"]
    amp: bool
    threads: Annotated[int, Field(ge=0, le=1024)]
    processes: Annotated[int, Field(ge=1, le=1024)]


class MlflowParams(_Section):
    experiment: NonEmpty
    registered_model: NonEmpty
    alias: NonEmpty
    log_network: bool


class EvaluateParams(_Section):
    promotion_level: Annotated[float, Field(gt=0.0, le=1.0)]
    behaviour_cases: NonEmpty
    behaviour_margin: Annotated[float, Field(ge=0.0, le=1.0)]


class Params(_Section):
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)]
    data: DataParams
    vocab: VocabParams
    encode: EncodeParams
    ngrams: NgramParams
    model: ModelParams
    train: TrainParams
    mlflow: MlflowParams
    evaluate: EvaluateParams


def _message(error: dict) -> str:
    """Pydantic's first error on one line naming the parameter; the value too, unless a mapping or list."""
    name = ".".join(map(str, error["loc"])) or "the file"
    value = error.get("input")
    shown = error["type"] not in ("missing", "extra_forbidden") and not isinstance(
        value, (dict, list)
    )
    message = error["msg"].removeprefix("Value error, ")  # a check across fields says its own
    return f"params.yaml: {name}: {message}" + (f", got {value!r}" if shown else "")


def parse(raw: Any) -> Params:
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise PipelineError(_message(error.errors()[0])) from None


def load(path: str | Path = paths.PARAMS) -> Params:
    return parse(read_yaml(path))


def read_yaml(path: str | Path) -> Any:
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise PipelineError(f"{path}: not valid YAML ({first_line(error)})") from None


def flatten(params: Params) -> dict[str, Any]:
    """``{"train.lr": 0.002, ...}``: the form MLflow logs and DVC shows."""
    flat = {}
    for key, value in params.model_dump().items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat
