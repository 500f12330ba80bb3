"""Typed, range-checked view of params.yaml.

Every field is checked for presence, type and range, and unknown keys are refused, so a typo
or an out-of-range value fails in one line naming the parameter instead of deep inside torch.
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rnn_sentiment import paths
from rnn_sentiment.errors import PipelineError, first_line


def _spec(low=None, high=None, choices=None, low_open=False):
    return field(metadata={"low": low, "high": high, "choices": choices, "low_open": low_open})


@dataclass(frozen=True)
class DataParams:
    source: str
    url: str
    sha256: str
    text_column: str
    label_column: str
    split_column: str
    test_fraction: float = _spec(0.0, 1.0, low_open=True)
    val_fraction: float = _spec(0.0, 0.9, low_open=True)
    max_train: int = _spec(0)
    max_test: int = _spec(0)


@dataclass(frozen=True)
class VocabParams:
    min_freq: int = _spec(1)
    max_size: int = _spec(3)


@dataclass(frozen=True)
class EncodeParams:
    max_len: int = _spec(1, 100_000)
    truncate: str = _spec(choices=("head", "tail", "head_tail"))


@dataclass(frozen=True)
class ModelParams:
    cell: str = _spec(choices=("rnn", "gru", "lstm"))
    embed_dim: int = _spec(1, 4096)
    hidden_dim: int = _spec(1, 4096)
    num_layers: int = _spec(1, 16)
    bidirectional: bool = _spec()
    dropout: float = _spec(0.0, 0.95)
    pooling: str = _spec(choices=("last", "max", "mean", "max_mean"))
    ngram_buckets: int = _spec(0, 2**26)


@dataclass(frozen=True)
class TrainParams:
    epochs: int = _spec(1, 10_000)
    batch_size: int = _spec(1, 65_536)
    lr: float = _spec(0.0, 10.0, low_open=True)
    ngram_lr: float = _spec(0.0, 10.0, low_open=True)
    weight_decay: float = _spec(0.0, 1.0)
    clip_grad_norm: float = _spec(0.0)
    patience: int = _spec(1)
    crop_share: float = _spec(0.0, 1.0)
    ema_decay: float = _spec(0.0, 0.9999)
    device: str = _spec(choices=("auto", "cpu", "cuda"))
    amp: bool = _spec()
    threads: int = _spec(0, 1024)
    processes: int = _spec(1, 1024)


@dataclass(frozen=True)
class MlflowParams:
    experiment: str
    registered_model: str
    alias: str


@dataclass(frozen=True)
class Params:
    seed: int = _spec(0, 2**32 - 1)
    data: DataParams = None
    vocab: VocabParams = None
    encode: EncodeParams = None
    model: ModelParams = None
    train: TrainParams = None
    mlflow: MlflowParams = None


def _type_name(kind) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[kind]


def _check_value(name: str, kind, value: Any, meta) -> Any:
    ok_type = (
        isinstance(value, bool) if kind is bool
        else isinstance(value, int) and not isinstance(value, bool) if kind is int
        else isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float
        else isinstance(value, str)
    )
    if not ok_type:
        raise PipelineError(f"params.yaml: {name} must be {_type_name(kind)}, got {value!r}")
    if kind is float:
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise PipelineError(f"params.yaml: {name} must be a finite number, got {value!r}")
    choices, low, high = meta.get("choices"), meta.get("low"), meta.get("high")
    if choices and value not in choices:
        raise PipelineError(f"params.yaml: {name} must be one of {', '.join(choices)}; got {value!r}")
    if low is not None and (value <= low if meta.get("low_open") else value < low):
        bound = f"> {low}" if meta.get("low_open") else f">= {low}"
        raise PipelineError(f"params.yaml: {name} must be {bound}, got {value!r}")
    if high is not None and value > high:
        raise PipelineError(f"params.yaml: {name} must be <= {high}, got {value!r}")
    if kind is str and not choices and not value.strip() and name not in _MAY_BE_EMPTY:
        raise PipelineError(f"params.yaml: {name} must not be empty")
    return value


_MAY_BE_EMPTY = {"data.url", "data.sha256", "data.split_column"}


def _build(cls, raw: Any, prefix: str):
    if not isinstance(raw, dict):
        raise PipelineError(f"params.yaml: {prefix or 'the file'} must be a mapping, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise PipelineError(f"params.yaml: unknown parameter {prefix}{unknown[0]}")
    values = {}
    for name, spec in fields.items():
        full = f"{prefix}{name}"
        if name not in raw:
            raise PipelineError(f"params.yaml: missing parameter {full}")
        if dataclasses.is_dataclass(spec.type):
            values[name] = _build(spec.type, raw[name], f"{full}.")
        else:
            values[name] = _check_value(full, spec.type, raw[name], spec.metadata)
    return cls(**values)


def _resolve_types(cls):
    """Replace the string annotations dataclasses keep with the classes they name."""
    hints = {"int": int, "float": float, "bool": bool, "str": str}
    hints.update({c.__name__: c for c in (DataParams, VocabParams, EncodeParams,
                                           ModelParams, TrainParams, MlflowParams)})
    for f in dataclasses.fields(cls):
        if isinstance(f.type, str):
            f.type = hints[f.type]


for _cls in (Params, DataParams, VocabParams, EncodeParams, ModelParams, TrainParams, MlflowParams):
    _resolve_types(_cls)


def parse(raw: Any) -> Params:
    return _build(Params, raw, "")


def load(path: str | Path = paths.PARAMS) -> Params:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise PipelineError(f"{path}: not valid YAML ({first_line(error)})") from None
    return parse(raw)


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """``section.key=value`` or top-level ``key=value`` overrides (values parsed as YAML) set in raw
    params, as `dvc exp run -S` does. Unknown names are left for ``parse`` to refuse."""
    for item in overrides:
        key, equals, value = item.partition("=")
        section, _, name = key.partition(".")
        if not equals or not key:
            raise PipelineError(f"override {item!r}: expected section.key=value or key=value")
        if not name:
            raw[key] = yaml.safe_load(value)
        elif isinstance(raw.get(section), dict):
            raw[section][name] = yaml.safe_load(value)
        else:
            raise PipelineError(f"override {item!r}: params.yaml has no section {section!r}")
    return raw


def load_with_overrides(overrides: list[str], path: str | Path = paths.PARAMS) -> Params:
    """params.yaml with ``section.key=value`` / ``key=value`` overrides applied."""
    return parse(apply_overrides(yaml.safe_load(Path(path).read_text(encoding="utf-8")), overrides))


def flatten(params: Params) -> dict[str, Any]:
    """``{"train.lr": 0.002, ...}``: the form MLflow logs and DVC shows."""
    flat = {}
    for key, value in dataclasses.asdict(params).items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat
