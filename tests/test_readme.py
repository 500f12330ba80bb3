"""The README's parameter table is what users read; it must say what params.yaml says."""

import re

import yaml

from conftest import PROJECT
from rnn_sentiment.core import params


def parameter_table() -> str:
    return (
        PROJECT.joinpath("README.md")
        .read_text()
        .split("## Parameters (`params.yaml`)")[1]
        .split("\n## ")[0]
    )


def params_yaml() -> dict:
    return params.flatten(params.load(PROJECT / "params.yaml"))


def documented_defaults() -> dict[str, str]:
    """`section.key` -> the default the table gives, for rows whose defaults are literal values."""
    defaults = {}
    for row in parameter_table().splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        values = [
            value.strip() for value in re.findall(r"`[^`]*`|[^,`]+", cells[1]) if value.strip()
        ]
        for name, value in zip(
            names, values * len(names) if len(values) == 1 else values, strict=True
        ):
            if value.startswith("`") or re.fullmatch(r"[-\d.e]+|true|false", value):
                defaults[name] = value.strip("`")
    return defaults


def test_the_parameter_table_gives_the_defaults_that_params_yaml_sets():
    actual = params_yaml()
    documented = documented_defaults()
    assert len(documented) >= 25
    wrong = [
        f"{name}: README {value}, params.yaml {actual.get(name)!r}"
        for name, value in documented.items()
        if name not in actual or yaml.safe_load(value) != actual[name]
    ]
    assert not wrong, wrong


def test_the_parameter_table_explains_every_parameter():
    table = parameter_table()
    assert [name for name in params_yaml() if f"`{name}`" not in table] == []


README = PROJECT.joinpath("README.md").read_text()


def test_the_readme_is_an_entry_point_not_a_lab_notebook():
    assert len(README) <= 12_000
    builders_only = [
        "../shared",
        "company",
        "sandbox",
        "CI-class",
        "seed notebook",
        "30-minute target",
        "previous default",
        "discarded",
        "{",
    ]
    assert [phrase for phrase in builders_only if phrase in README] == []


def test_every_link_into_the_repository_resolves():
    targets = re.findall(r"\]\(((?:docs|benchmarks|tools|tests|stages)/[^)#\s]+)", README)
    for doc in PROJECT.glob("docs/*.md"):
        targets += [
            str((doc.parent / link).relative_to(PROJECT))
            for link in re.findall(r"\]\(([^)#\s:]+)\)", doc.read_text())
        ]
    assert len(targets) >= 8
    assert [target for target in targets if not (PROJECT / target).exists()] == []
