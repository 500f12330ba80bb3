"""Behaviour checks: the cases file loads or is refused in one line naming the case, and the checks
score a real (keyword) predictor to pass rates known by construction."""

import numpy as np
import pytest

from conftest import PROJECT
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.evaluation import behaviour

SHIPPED = PROJECT / "behaviour" / "imdb.yaml"


def keyword_scorer(texts: list[str]) -> np.ndarray:
    """P(positive) 0.9 for a text holding "good", else 0.1: blind to negation and to typos."""
    return np.array([0.9 if "good" in text.lower() else 0.1 for text in texts])


def write(tmp_path, text: str):
    path = tmp_path / "cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_loads_and_each_capability_has_cases_of_both_labels_or_perturbations():
    cases = behaviour.load_cases(SHIPPED)
    by_capability = {}
    for case in cases:
        by_capability.setdefault(case.capability, []).append(case)
    assert set(by_capability) == {
        "negation",
        "contrast",
        "intensity",
        "short",
        "invariance_names",
        "invariance_titles",
        "invariance_numbers",
        "invariance_neutral",
        "invariance_typos",
    }
    for name, own in by_capability.items():
        assert 10 <= len(own) <= 25, name
        kinds = {case.kind for case in own}
        if name.startswith("invariance_"):
            assert kinds == {"invariance"}, name
        else:
            assert kinds == {"label"}, name
            assert {case.expected for case in own} == {"positive", "negative"}, name
    assert len(by_capability["short"]) == 20
    labelled = [(case.text, case.expected) for case in cases if case.kind == "label"]
    contradicted = {
        text
        for text, label in labelled
        if (text, "positive" if label == "negative" else "negative") in labelled
    }
    assert contradicted == set()


def test_swap_and_variants_make_one_invariance_case_per_perturbation_in_file_order(tmp_path):
    path = write(
        tmp_path,
        "names:\n"
        "  invariant:\n"
        "    - text: Ann liked it, Ann said.\n"
        "      swap: {Ann: [Bo, Cy]}\n"
        "      variants: [Ann liked it.]\n"
        "short:\n"
        "  positive: [Good]\n"
        "  negative: [Bad]\n",
    )
    Case = behaviour.Case
    original = "Ann liked it, Ann said."
    assert behaviour.load_cases(path) == [
        Case("names", "invariance", "Bo liked it, Bo said.", None, original),
        Case("names", "invariance", "Cy liked it, Cy said.", None, original),
        Case("names", "invariance", "Ann liked it.", None, original),
        Case("short", "label", "Good", "positive"),
        Case("short", "label", "Bad", "negative"),
    ]


@pytest.mark.parametrize(
    "text, named",
    [
        ("", "expected a mapping of capability names"),
        ("- a\n- b\n", "expected a mapping of capability names"),
        ("negation: {positive: [a: b\n", "not valid YAML (line 2:"),
        (
            "negation: {positive: [a]}\nnegation: {negative: [b]}\n",
            "line 2: 'negation' appears twice",
        ),
        (
            "Negation: {positive: [a]}\n",
            "capability 'Negation': names are lowercase letters and underscores",
        ),
        ("negation:\n", "negation: expected a mapping, got None"),
        ("negation: {}\n", "negation: no cases"),
        ("negation: {postive: [a]}\n", "negation.postive: Extra inputs are not permitted"),
        ("negation: {positive: a}\n", "negation.positive: Input should be a valid list, got 'a'"),
        (
            "negation: {positive: [a, 5]}\n",
            "negation.positive.1: Input should be a valid string, got 5 (quote it",
        ),
        (
            "negation: {positive: [yes]}\n",
            "negation.positive.0: Input should be a valid string, got True",
        ),
        ("negation: {negative: [a, ' ']}\n", "negation.negative.1: a blank text, got ' '"),
        ("names: {invariant: [x]}\n", "names.invariant.0: expected a mapping, got 'x'"),
        ("names: {invariant: [{text: a b}]}\n", "names.invariant.0: needs `swap` or `variants`"),
        (
            "names: {invariant: [{text: a b, swap: {c: [d]}}]}\n",
            "names.invariant.0: swap: 'c' is not in the text 'a b'",
        ),
        (
            "names: {invariant: [{text: a b, swap: {a: []}}]}\n",
            "names.invariant.0.swap.a: List should have at least 1",
        ),
        (
            "names: {invariant: [{text: a b, variants: [a b]}]}\n",
            "a perturbation of 'a b' is the text itself",
        ),
        (
            "names: {invariant: [{text: a b, swap: {a: [c]}, label: 1}]}\n",
            "names.invariant.0.label: Extra inputs",
        ),
    ],
)
def test_a_bad_cases_file_is_one_line_naming_the_file_and_the_case(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(PipelineError) as caught:
        behaviour.load_cases(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and named in message and "\n" not in message


def test_a_missing_or_non_utf8_file_is_one_line(tmp_path):
    with pytest.raises(PipelineError, match=r"nothing\.yaml: file not found$"):
        behaviour.load_cases(tmp_path / "nothing.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("short: {positive: [Très bien]}\n".encode("latin-1"))
    with pytest.raises(PipelineError, match=r"latin1\.yaml: not UTF-8$"):
        behaviour.load_cases(path)


def test_a_keyword_scorer_fails_negation_and_typos_and_passes_the_rest(tmp_path):
    path = write(
        tmp_path,
        "negation:\n"
        "  positive: [Not bad at all, A good film]\n"  # fails, passes
        "  negative: [Not good, Dull]\n"  # fails, passes
        "typos:\n"
        "  invariant:\n"
        "    - text: A good film\n"
        "      variants: [A good movie, A goood film, Quite a good film]\n"  # passes, fails, passes
        "    - text: A dull film\n"
        "      swap: {dull: [goood, bad, poor]}\n",  # all keep the negative label
    )
    calls = []

    def predict_proba(texts):
        calls.append(list(texts))
        return keyword_scorer(texts)

    table = behaviour.run_checks(behaviour.load_cases(path), predict_proba)
    assert list(table.columns) == behaviour.COLUMNS
    assert behaviour.pass_rates(table) == {"negation": 0.5, "typos": 5 / 6}
    # every distinct text, originals included, scored once in one call ("A goood film" is in both cases)
    assert len(calls) == 1 and len(calls[0]) == len(set(calls[0])) == 10
    assert "A dull film" in calls[0]
    negation = table[table["capability"] == "negation"]
    assert negation["passed"].tolist() == [False, True, False, True]
    assert negation["probability"].tolist() == [0.1, 0.9, 0.9, 0.1]
    typos = table[table["capability"] == "typos"]
    # an invariance row expects its original's predicted label, whatever the truth
    assert typos["expected"].tolist() == ["positive"] * 3 + ["negative"] * 3
    assert typos["original"].tolist() == ["A good film"] * 3 + ["A dull film"] * 3
    assert typos.loc[~typos["passed"], "text"].tolist() == ["A goood film"]
    assert (negation["original"] == "").all()


def test_a_probability_of_exactly_one_half_is_positive_as_in_the_test_metrics(tmp_path):
    path = write(tmp_path, "edge:\n  positive: [a]\n  negative: [b]\n")
    table = behaviour.run_checks(behaviour.load_cases(path), lambda texts: np.full(len(texts), 0.5))
    assert table["predicted"].tolist() == ["positive", "positive"]
    assert behaviour.pass_rates(table) == {"edge": 0.5}


def test_a_predictor_answering_the_wrong_number_of_texts_is_refused(tmp_path):
    cases = behaviour.load_cases(write(tmp_path, "short: {positive: [a, b]}\n"))
    with pytest.raises(ValueError, match=r"shape \(1,\) for 2 texts"):
        behaviour.run_checks(cases, lambda texts: np.array([0.9]))


def test_the_shipped_cases_run_against_a_real_scorer_with_a_rate_for_every_capability():
    cases = behaviour.load_cases(SHIPPED)
    table = behaviour.run_checks(cases, keyword_scorer)
    rates = behaviour.pass_rates(table)
    assert list(rates) == list(dict.fromkeys(case.capability for case in cases))
    assert all(0.0 <= rate <= 1.0 for rate in rates.values())
    # "good" alone cannot read "not good" and "not bad"
    assert rates["negation"] < 1.0
    assert len(table) == len(cases)
