"""The model card has every section of Mitchell et al. with the facts it is given, and says in a
sentence when an optional fact is missing, never "None"."""

import re

import numpy as np
import pytest
import yaml

from conftest import PROJECT
from rnn_sentiment.evaluation import model_card, paired

SECTIONS = [
    "Intended use",
    "Out-of-scope use",
    "Data",
    "Params",
    "Test metrics",
    "Behaviour checks",
    "Comparison with the champion",
    "Known limits",
    "How to reproduce",
]


def full_facts() -> dict:
    return {
        "model_name": "imdb-rnn",
        "model_version": "7",
        "run_id": "0123abcd",
        "params": yaml.safe_load((PROJECT / "params.yaml").read_text()),
        "metrics": {
            "accuracy": 0.91234,
            "accuracy_ci_low": 0.8971,
            "accuracy_ci_high": 0.9262,
            "roc_auc": 0.97,
            "roc_auc_ci_low": 0.961,
            "roc_auc_ci_high": 0.978,
            "balanced_accuracy": 0.6543,
            "f1": 0.9,
        },
        "data_counts": {
            "train_pos": 1500,
            "train_neg": 300,
            "val_pos": 160,
            "val_neg": 40,
            "test_pos": 800,
            "test_neg": 200,
            "test_duplicates_of_train": 3,
        },
        "test_digest": "f" * 64,
        "behaviour": {"negation": 0.25, "short": 1.0, "contrast": 0.9},
        "champion": {
            "version": "6",
            "accuracy_diff": 0.012,
            "accuracy_diff_ci_low": -0.004,
            "accuracy_diff_ci_high": 0.028,
            "roc_auc_diff": 0.003,
            "roc_auc_diff_ci_low": -0.001,
            "roc_auc_diff_ci_high": 0.007,
            "candidate_only_right": 31,
            "champion_only_right": 19,
            "mcnemar_p": 0.1189,
        },
        "decision": "promoted: candidate 0.9700 vs champion 0.9670, p=0.119, ...",
        "git_commit": "abc1234def",
    }


def section(card: str, title: str) -> str:
    """The text under a ``##`` heading, up to the next one."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", card, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def test_every_section_is_there_in_order_with_its_facts():
    card = model_card.render(full_facts())
    headings = re.findall(r"^## (.+)$", card, re.M)
    assert headings == SECTIONS
    assert card.startswith("# Model card: imdb-rnn, version 7\n")
    data = section(card, "Data")
    assert "data/raw/imdb/aclImdb_v1.tar.gz" in data and "f" * 64 in data
    assert "| train | 1,500 | 300 | 1,800 |" in data and "| test | 800 | 200 | 1,000 |" in data
    assert "3 test reviews also appear" in data
    assert "| model | cell=gru, embed_dim=128," in section(card, "Params")
    assert "| accuracy | 0.9123 | 0.8971 to 0.9262 |" in section(card, "Test metrics")
    assert "| f1 | 0.9000 | not computed |" in section(card, "Test metrics")
    champion = section(card, "Comparison with the champion")
    assert "version 6" in champion and "| accuracy | +0.0120 | -0.0040 to +0.0280 |" in champion
    assert "31" in champion and "19" in champion and "p = 0.119" in champion
    assert "Decision: promoted" in champion
    assert "git checkout abc1234def\ndvc repro" in section(card, "How to reproduce")


def test_failing_capabilities_are_called_failing():
    card = model_card.render(full_facts())
    behaviour = section(card, "Behaviour checks")
    assert "| negation | 25% | **failing** |" in behaviour
    assert "| short | 100% | passes |" in behaviour
    assert "| contrast | 90% | passes mostly |" in behaviour
    assert "Failing behaviour capabilities: negation" in section(card, "Known limits")


def test_known_limits_name_the_truncation_and_this_datas_skew():
    facts = full_facts()
    facts["params"]["encode"] = {"max_len": 123, "truncate": "tail"}
    limits = section(model_card.render(facts), "Known limits")
    assert "longer than 123 tokens is read as its last 123 tokens (" in limits
    assert "English movie reviews" in limits
    assert "80.0% positive" in limits and "balanced accuracy is 0.6543" in limits
    assert "ROC AUC and balanced accuracy" in limits


def test_flat_params_give_the_same_card_as_nested_ones():
    nested = full_facts()
    flat = dict(nested, params=model_card._flat(nested["params"]))
    assert "encode.max_len" in flat["params"]
    assert model_card.render(flat) == model_card.render(nested)


@pytest.mark.parametrize(
    "missing, sentence",
    [
        ("champion", "No comparable champion"),
        ("decision", "Decision: not recorded."),
        ("behaviour", "No behaviour checks were run"),
        ("data_counts", "Counts per split and class were not recorded."),
        ("test_digest", "Test split digest: not recorded."),
        ("git_commit", "The git commit was not recorded"),
    ],
)
def test_a_missing_optional_fact_is_a_sentence_not_none(missing, sentence):
    facts = full_facts()
    del facts[missing]
    card = model_card.render(facts)
    assert sentence in card
    assert "None" not in card
    assert re.findall(r"^## (.+)$", card, re.M) == SECTIONS
    facts[missing] = None
    assert model_card.render(facts) == card


def test_the_card_is_plain_markdown_whose_tables_keep_their_columns():
    facts = full_facts()
    facts["behaviour"]["odd|name"] = 0.5
    card = model_card.render(facts)
    assert not re.search(r"<[a-zA-Z/]", card)  # no HTML: the MLflow UI may drop it
    for table in re.findall(r"(?:^\|.*\|\n)+", card, re.M):
        rows = table.splitlines()
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, table
        assert re.fullmatch(r"\|(-+:?\|)+", rows[1]), rows[1]


def test_the_champion_facts_are_what_paired_compare_gives():
    labels = np.arange(200) % 2
    candidate = np.where(labels == 1, 0.8, 0.2)
    champion = np.where(np.arange(200) < 20, 1 - candidate, candidate)  # wrong on the first 20
    facts = full_facts()
    facts["champion"] = {"version": 3, **paired.compare(labels, candidate, champion).as_metrics()}
    champion_section = section(model_card.render(facts), "Comparison with the champion")
    assert "| accuracy | +0.1000 |" in champion_section
    assert "only this model gets right: 20; only the champion: 0" in champion_section
    assert f"p = {2 * 0.5**20:.1e}" in champion_section
