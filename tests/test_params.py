"""Unit tests for rnn_sentiment.params: a bad value fails in one line naming the parameter."""

import copy
import re
from pathlib import Path

import annotated_types
import pytest
import yaml
from pydantic import BaseModel, ValidationError

from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError

PARAMS_YAML = Path(__file__).resolve().parents[1] / "params.yaml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(PARAMS_YAML.read_text(encoding="utf-8"))


def test_repo_params_yaml_loads(raw):
    loaded = params.load(PARAMS_YAML)
    assert isinstance(loaded, params.Params)
    assert isinstance(loaded.model, params.ModelParams) and isinstance(
        loaded.train, params.TrainParams
    )
    assert loaded.seed == raw["seed"]
    assert loaded.model.cell == raw["model"]["cell"]
    assert loaded.train.lr == pytest.approx(raw["train"]["lr"])
    assert isinstance(loaded.train.lr, float)
    assert loaded.vocab.min_freq == raw["vocab"]["min_freq"]
    assert loaded.data == params.DataParams(**raw["data"])


def test_parse_of_the_unchanged_dict_equals_load(raw):
    assert params.parse(copy.deepcopy(raw)) == params.load(PARAMS_YAML)


def test_integer_is_accepted_for_a_float_and_converted(raw):
    changed = copy.deepcopy(raw)
    changed["train"]["lr"] = 1
    parsed = params.parse(changed)
    assert parsed.train.lr == 1.0 and isinstance(parsed.train.lr, float)


def test_flatten_uses_dotted_names(raw):
    flat = params.flatten(params.load(PARAMS_YAML))
    assert flat["seed"] == raw["seed"]
    assert flat["model.hidden_dim"] == raw["model"]["hidden_dim"]
    assert flat["train.lr"] == pytest.approx(raw["train"]["lr"])
    assert len(flat) == 1 + sum(len(v) for v in raw.values() if isinstance(v, dict))


def _set(config: dict, dotted: str, value) -> None:
    section, key = dotted.split(".")
    config[section][key] = value


def _delete(config: dict, dotted: str) -> None:
    section, key = dotted.split(".")
    del config[section][key]


BAD = [
    ("model.hidden_dim", lambda c: _set(c, "model.hidden_dim", 0)),
    ("train.lr", lambda c: _set(c, "train.lr", -0.1)),
    ("train.lr", lambda c: _set(c, "train.lr", 0.0)),
    ("train.lr", lambda c: _set(c, "train.lr", "0.001")),
    ("train.lr", lambda c: _set(c, "train.lr", float("nan"))),
    ("model.cell", lambda c: _set(c, "model.cell", "transformer")),
    ("train.epochs", lambda c: _set(c, "train.epochs", 1.5)),
    ("train.epochs", lambda c: _set(c, "train.epochs", True)),
    ("train.epoch_batches", lambda c: _set(c, "train.epoch_batches", -1)),
    ("model.bidirectional", lambda c: _set(c, "model.bidirectional", "yes")),
    ("model.bidirectional", lambda c: _set(c, "model.bidirectional", 1)),
    ("train.foo", lambda c: _set(c, "train.foo", 3)),
    ("vocab.min_freq", lambda c: _delete(c, "vocab.min_freq")),
    ("data.val_fraction", lambda c: _set(c, "data.val_fraction", 1.0)),
    ("data.val_fraction", lambda c: _set(c, "data.val_fraction", 0)),
    ("model.dropout", lambda c: _set(c, "model.dropout", 0.99)),
    ("encode.truncate", lambda c: _set(c, "encode.truncate", "middle")),
    ("mlflow.experiment", lambda c: _set(c, "mlflow.experiment", "  ")),
    ("evaluate.behaviour_cases", lambda c: _set(c, "evaluate.behaviour_cases", "")),
    ("model", lambda c: c.__setitem__("model", None)),
    ("seed", lambda c: c.__setitem__("seed", -1)),
    ("ngrams.max_counted", lambda c: _set(c, "ngrams.max_counted", 1_000_000)),
]


@pytest.mark.parametrize(
    "name, mutate", BAD, ids=[f"{i}-{name}" for i, (name, _) in enumerate(BAD)]
)
def test_a_bad_value_raises_naming_the_parameter(raw, name, mutate):
    changed = copy.deepcopy(raw)
    mutate(changed)
    with pytest.raises(PipelineError) as caught:
        params.parse(changed)
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


def test_the_mutations_do_not_leak_into_the_fixture(raw):
    assert params.parse(copy.deepcopy(raw)).model.hidden_dim == raw["model"]["hidden_dim"] > 0


def test_top_level_unknown_and_missing_sections(raw):
    extra = copy.deepcopy(raw)
    extra["optimizer"] = {"name": "adam"}
    with pytest.raises(PipelineError, match="optimizer"):
        params.parse(extra)
    missing = copy.deepcopy(raw)
    del missing["train"]
    with pytest.raises(PipelineError, match="params.yaml: train: Field required"):
        params.parse(missing)


@pytest.mark.parametrize("document", [None, [], "just a string", 3])
def test_a_document_that_is_not_a_mapping_raises(document):
    with pytest.raises(PipelineError):
        params.parse(document)


def test_load_of_missing_or_invalid_yaml_names_the_file(tmp_path):
    with pytest.raises(PipelineError, match="nowhere.yaml"):
        params.load(tmp_path / "nowhere.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("seed: [1, 2\nmodel: {", encoding="utf-8")
    with pytest.raises(PipelineError, match="broken.yaml"):
        params.load(broken)


def test_params_are_frozen():
    loaded = params.load(PARAMS_YAML)
    with pytest.raises(ValidationError, match="frozen"):
        loaded.train.lr = 1.0


def _numeric_cases() -> list[tuple[str, object, float | None]]:
    """For every numeric parameter: a value below its range, above it where bounded (with the limit
    crossed), and a string (no limit)."""
    cases = []
    for section_name, section in params.Params.model_fields.items():
        is_section = isinstance(section.annotation, type) and issubclass(
            section.annotation, BaseModel
        )
        fields = (
            section.annotation.model_fields.items() if is_section else [(section_name, section)]
        )
        for key, spec in fields:
            if spec.annotation not in (int, float):
                continue
            name = key if not is_section else f"{section_name}.{key}"
            for bound in spec.metadata:
                if isinstance(bound, annotated_types.Ge):
                    cases.append((name, bound.ge - 1, bound.ge))
                elif isinstance(bound, annotated_types.Gt):
                    cases.append((name, bound.gt, bound.gt))
                elif isinstance(bound, annotated_types.Le):
                    cases.append((name, bound.le + 1, bound.le))
            cases.append((name, "12", None))
    return cases


NUMERIC_CASES = _numeric_cases()


def test_every_numeric_parameter_has_a_range_case():
    names = {name for name, _, _ in NUMERIC_CASES}
    assert {"seed", "train.lr", "encode.max_len", "data.max_train", "vocab.max_size"} <= names
    assert len(NUMERIC_CASES) >= 40


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", text)]


@pytest.mark.parametrize(
    "name, value, limit", NUMERIC_CASES, ids=[f"{n}={v!r}" for n, v, _ in NUMERIC_CASES]
)
def test_every_numeric_parameter_out_of_range_or_mistyped_is_refused_naming_it_and_its_limit(
    raw, name, value, limit
):
    changed = copy.deepcopy(raw)
    if "." in name:
        section, key = name.split(".")
        changed[section][key] = value
    else:
        changed[name] = value
    with pytest.raises(PipelineError) as caught:
        params.parse(changed)
    message = str(caught.value)
    assert message.startswith(f"params.yaml: {name}: ") and message.endswith(f", got {value!r}")
    assert "\n" not in message
    if limit is not None:
        assert _numbers(message.removesuffix(f", got {value!r}")) == [limit]


@pytest.mark.parametrize("key", ["ngram_c", "ngram_prior"])
def test_a_list_over_its_length_limit_names_the_parameter_and_the_limit(raw, key):
    changed = copy.deepcopy(raw)
    changed["train"][key] = [1.0] * 21
    with pytest.raises(PipelineError) as caught:
        params.parse(changed)
    message = str(caught.value)
    assert message.startswith(f"params.yaml: train.{key}: ") and "\n" not in message
    assert 20 in _numbers(message) and "[1.0" not in message, "the limit, not the 21 values"
