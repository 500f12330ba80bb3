"""``--set section.key=value`` for the benchmarks: params.yaml with overrides, as `dvc exp run -S` sets them."""

from pathlib import Path

import yaml

from rnn_sentiment.core import params, paths
from rnn_sentiment.core.errors import PipelineError


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """``section.key=value`` or top-level ``key=value`` overrides (values parsed as YAML) set in raw
    params. Unknown names are left for ``params.parse`` to refuse."""
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


def load_with_overrides(overrides: list[str], path: str | Path = paths.PARAMS) -> params.Params:
    return params.parse(apply_overrides(params.read_yaml(path), overrides))
