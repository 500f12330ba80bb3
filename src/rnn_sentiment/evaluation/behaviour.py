"""Behaviour checks in the manner of CheckList (Ribeiro et al. 2020): hand-written cases grouped by
capability, run against any ``predict_proba(texts) -> P(positive)``.

Two kinds of case: ``label`` (CheckList's minimum functionality test: a text and the label any reader
gives it) and ``invariance`` (a text and perturbations of it that must not change the model's label,
whatever that label is). A cases file maps each capability to its cases::

    negation:
      positive: [Not bad at all.]
      negative: [The movie was not good.]
    invariance_names:
      invariant:
        - text: John Smith gives a wonderful performance.
          swap: {John Smith: [Maria Garcia, Ahmed Khan]}   # one perturbation per replacement
          variants: [John Smith gives a wonderful performance, I think.]
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rnn_sentiment.core.errors import PipelineError, first_line

LABELS = ("negative", "positive")
CAPABILITY_NAME = re.compile(r"[a-z_]+")
COLUMNS = [
    "capability",
    "kind",
    "text",
    "expected",
    "predicted",
    "probability",
    "passed",
    "original",
]

Text = Annotated[str, StringConstraints(pattern=r"\S")]


@dataclass(frozen=True)
class Case:
    capability: str
    kind: Literal["label", "invariance"]
    text: str
    # a label case's label; None for an invariance case, whose expected label is the original's prediction
    expected: str | None
    original: str = ""  # the text an invariance case perturbs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Invariant(_Strict):
    text: Text
    swap: dict[Text, Annotated[list[Text], Field(min_length=1)]] = {}
    variants: list[Text] = []

    def perturbed(self) -> list[str]:
        swapped = [self.text.replace(old, new) for old, news in self.swap.items() for new in news]
        return swapped + list(self.variants)

    @model_validator(mode="after")
    def _checks_something(self) -> "_Invariant":
        if not self.swap and not self.variants:
            raise PydanticCustomError("no_perturbation", "needs `swap` or `variants`")
        for old in self.swap:
            if old not in self.text:
                raise PydanticCustomError("swap", f"swap: {old!r} is not in the text {self.text!r}")
        if self.text in self.perturbed():
            raise PydanticCustomError("same", f"a perturbation of {self.text!r} is the text itself")
        return self


class _Capability(_Strict):
    positive: list[Text] = []
    negative: list[Text] = []
    invariant: list[_Invariant] = []

    @model_validator(mode="after")
    def _has_cases(self) -> "_Capability":
        if not (self.positive or self.negative or self.invariant):
            raise PydanticCustomError(
                "empty", "no cases (give `positive`, `negative` or `invariant`)"
            )
        return self

    def cases(self, name: str, order: list[str]) -> list[Case]:
        """The cases in the file's order of ``positive``, ``negative`` and ``invariant``."""
        cases = []
        for key in order:
            if key == "invariant":
                cases += [
                    Case(name, "invariance", text, None, case.text)
                    for case in self.invariant
                    for text in case.perturbed()
                ]
            else:
                cases += [Case(name, "label", text, key) for text in getattr(self, key)]
        return cases


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys; here a capability or key written twice is an error."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"{key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
            except TypeError:  # an unhashable key: the base class says so
                pass
        return super().construct_mapping(node, deep)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise PipelineError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise PipelineError(f"{path}: not UTF-8") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise PipelineError(
            f"{path}: not valid YAML ({where}{error.problem or error.context})"
        ) from None
    except yaml.YAMLError as error:
        raise PipelineError(f"{path}: not valid YAML ({first_line(error)})") from None


# pydantic's words where they would name our classes or regular expressions
_MESSAGES = {"model_type": "expected a mapping", "string_pattern_mismatch": "a blank text"}


def _message(path: Path, capability: str, error: dict) -> str:
    """Pydantic's first error as one line naming the file and the case, e.g. ``negation.positive.3``."""
    name = ".".join(map(str, (capability, *error["loc"])))
    value = error.get("input")
    shown = error["type"] not in ("missing", "extra_forbidden") and not isinstance(
        value, (dict, list)
    )
    message = f"{path}: {name}: {_MESSAGES.get(error['type'], error['msg'])}"
    if shown:
        message += f", got {value!r}"
    if error["type"] == "string_type" and value is not None and not isinstance(value, (dict, list)):
        message += " (quote it: YAML reads yes, no, on, off and numbers as other types)"
    return message


def load_cases(path: str | Path) -> list[Case]:
    """Every case of the file, in its order; a bad file is one PipelineError line naming the file and case."""
    path = Path(path)
    raw = _read(path)
    if not isinstance(raw, dict) or not raw:
        raise PipelineError(f"{path}: expected a mapping of capability names to their cases")
    cases = []
    for name, body in raw.items():
        if not isinstance(name, str) or not CAPABILITY_NAME.fullmatch(name):
            raise PipelineError(
                f"{path}: capability {name!r}: names are lowercase letters and underscores"
            )
        try:
            cases += _Capability.model_validate(body).cases(name, list(body))
        except ValidationError as error:
            raise PipelineError(_message(path, name, error.errors()[0])) from None
    return cases


def label_of(probabilities: np.ndarray) -> np.ndarray:
    """Positive at 0.5 and above, as the test metrics count it."""
    return np.where(np.asarray(probabilities) >= 0.5, LABELS[1], LABELS[0])


def run_checks(cases: list[Case], predict_proba: Callable[[list[str]], np.ndarray]) -> pd.DataFrame:
    """One row per case (columns COLUMNS); every distinct text, originals included, is scored once in
    one call. An invariance row passes when its text gets the same label as its original."""
    texts = list(
        dict.fromkeys([case.text for case in cases] + [c.original for c in cases if c.original])
    )
    probabilities = np.asarray(predict_proba(texts), dtype=np.float64)
    if probabilities.shape != (len(texts),):
        raise ValueError(f"predict_proba gave shape {probabilities.shape} for {len(texts)} texts")
    probability = dict(zip(texts, probabilities, strict=True))
    label = dict(zip(texts, label_of(probabilities), strict=True))
    table = pd.DataFrame(
        [
            {
                "capability": case.capability,
                "kind": case.kind,
                "text": case.text,
                "expected": case.expected if case.kind == "label" else label[case.original],
                "predicted": label[case.text],
                "probability": probability[case.text],
                "original": case.original,
            }
            for case in cases
        ],
        columns=[c for c in COLUMNS if c != "passed"],
    )
    table["passed"] = table["expected"] == table["predicted"]
    return table[COLUMNS]


def pass_rates(table: pd.DataFrame) -> dict[str, float]:
    """Share of passed rows per capability, in the table's order of capabilities."""
    return {
        str(name): float(group["passed"].mean())
        for name, group in table.groupby("capability", sort=False)
    }
