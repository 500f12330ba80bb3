"""The package's layout keeps DVC honest: every module a stage runs is one of that stage's deps,
subpackages import one way, and code no stage runs (the predict command) is nobody's dep.

Imports are followed with ``ast`` from each stage script through src/rnn_sentiment, so the check
cannot go stale when a module gains an import.
"""

import ast
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT
from rnn_sentiment.tracking import logged_models

PACKAGE = PROJECT / "src" / "rnn_sentiment"
# Each subpackage may import only those on lower levels (and itself).
LEVELS = {
    "core": 0,
    "data": 1,
    "text": 1,
    "evaluation": 1,
    "model": 2,
    "tracking": 3,
    "training": 4,
    "serving": 4,
}
WITHOUT_TORCH = ("core", "data", "text", "evaluation")


def module_file(name: str) -> Path | None:
    """The file that ``import name`` runs, for names inside the package."""
    parts = name.split(".")
    if parts[0] != "rnn_sentiment":
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_names(path: Path) -> set[str]:
    """Every module name a file imports, at any depth (lazy imports inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reached_files(start: Path) -> set[Path]:
    """Project files that running ``start`` executes: its imports, theirs, and the packages above."""
    seen, todo = set(), [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_names(path):
            parts = name.split(".")
            # importing a.b.c runs a/__init__, a/b/__init__ too
            for depth in range(1, len(parts) + 1):
                found = module_file(".".join(parts[:depth]))
                if found and found not in seen:
                    todo.append(found)
    return seen - {start}


def stage_deps() -> dict[str, list[Path]]:
    stages = yaml.safe_load((PROJECT / "dvc.yaml").read_text())["stages"]
    return {
        name: [PROJECT / dep for dep in stage["deps"] if not dep.startswith("${")]
        for name, stage in stages.items()
    }


def covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


@pytest.mark.parametrize("stage", list(stage_deps()))
def test_every_module_a_stage_runs_is_one_of_its_deps(stage):
    deps = stage_deps()[stage]
    script = PROJECT / "stages" / f"{stage}.py"
    assert script in deps
    reached = reached_files(script)
    assert reached, "the stage imports the package"
    missing = sorted(str(f.relative_to(PROJECT)) for f in reached if not covered(f, deps))
    assert missing == [], f"{stage} runs code that is not among its deps in dvc.yaml"


def test_code_shipped_inside_the_logged_model_is_a_dep_of_train():
    shipped = [
        PACKAGE / "__init__.py",
        logged_models.MODEL_CODE,
        *(PACKAGE / name for name in logged_models.SHIPPED),
    ]
    deps = stage_deps()["train"]
    assert [str(path) for path in shipped if not covered(path, deps)] == []

    def is_shipped(path: Path) -> bool:
        parts = path.relative_to(PACKAGE).parts
        return parts == ("__init__.py",) or parts[0] in logged_models.SHIPPED

    outside = sorted(
        str(f.relative_to(PACKAGE))
        for f in reached_files(logged_models.MODEL_CODE)
        if not is_shipped(f)
    )
    assert outside == [], "the served model imports code the logged model does not ship"


def test_code_no_stage_runs_is_no_stages_dep():
    deps = [dep for stage in stage_deps().values() for dep in stage]
    for unused in (
        PACKAGE / "serving",
        PACKAGE / "serving" / "predict.py",
        PROJECT / "benchmarks",
        PROJECT / "tools",
    ):
        assert not covered(unused, deps), unused


def test_subpackages_import_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).parts
        if len(relative) == 1:
            continue
        own = relative[0]
        for name in imported_names(path):
            parts = name.split(".")
            if (
                parts[0] == "rnn_sentiment"
                and len(parts) > 1
                and parts[1] in LEVELS
                and parts[1] != own
            ):
                if LEVELS[parts[1]] >= LEVELS[own]:
                    wrong.append(f"{'/'.join(relative)} imports {name}")
    assert wrong == []
    assert set(LEVELS) == {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}


@pytest.mark.parametrize("subpackage", WITHOUT_TORCH)
def test_data_handling_never_imports_torch(subpackage):
    for path in (PACKAGE / subpackage).rglob("*.py"):
        for reached in {path} | reached_files(path):
            assert not any(name.split(".")[0] == "torch" for name in imported_names(reached)), (
                reached
            )
