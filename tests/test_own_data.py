"""A user's own data is an input DVC hashes, never an output it owns: through the real `dvc repro`
and `dvc exp run -S data.source=...`, every kind of source is read in place and is byte-identical
afterwards. A queued `dvc exp run` on own data: tests/test_experiments.py; what ingest makes of
each format: tests/test_sources.py."""

import hashlib
import json
import random
from pathlib import Path

import pytest
import yaml

from conftest import dvc, generator, make_project, run, synthetic_review, update_params

pytestmark = pytest.mark.slow
KINDS = [
    "untracked file",
    "committed file",
    "dvc-added file",
    "absolute path outside",
    "aclImdb folder",
]
FAST = {"train": {"epochs": 1}}


def write_folder(root: Path, per_folder: int, seed: int) -> None:
    rng = random.Random(seed)
    for split in ("train", "test"):
        for polarity in ("pos", "neg"):
            folder = root / "aclImdb" / split / polarity
            folder.mkdir(parents=True)
            for number in range(per_folder):
                (folder / f"{number}_{8 if polarity == 'pos' else 2}.txt").write_text(
                    synthetic_review(rng, polarity == "pos"), encoding="utf-8"
                )


def make_source(kind: str, repo: Path, name: str, reviews: int, seed: int) -> tuple[str, int]:
    """A source of ``kind`` holding ``reviews`` reviews; returns (data.source as the user writes it, reviews)."""
    if kind == "aclImdb folder":
        write_folder(repo / "data/own" / name, reviews // 4, seed)
        return f"data/own/{name}", reviews
    if kind == "absolute path outside":
        path = repo.parent / "elsewhere" / f"{name}.csv"
        generator.write_csv(path, reviews, seed)
        return str(path), reviews
    relative = f"data/own/{name}.csv"
    generator.write_csv(repo / relative, reviews, seed)
    if kind == "committed file":
        run(["git", "add", relative], repo)
        run(["git", "commit", "-qm", f"add {name}"], repo)
    elif kind == "dvc-added file":
        dvc("add", "-q", relative, cwd=repo)
        run(["git", "add", f"{relative}.dvc", "data/own/.gitignore"], repo)
        run(["git", "commit", "-qm", f"dvc add {name}"], repo)
    return relative, reviews


def digest(repo: Path, source: str) -> str:
    """SHA-256 over a file, or over every file of a folder with its relative path."""
    path = Path(source) if Path(source).is_absolute() else repo / source
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    assert files, f"{path} is gone"
    total = hashlib.sha256()
    for file in files:
        total.update(
            str(file.relative_to(path.parent)).encode() + hashlib.sha256(file.read_bytes()).digest()
        )
    return total.hexdigest()


def reviews_read(repo: Path) -> int:
    counts = json.loads((repo / "reports/data.json").read_text())
    return sum(v for k, v in counts.items() if k.split("_")[0] in ("train", "val", "test"))


def trained_on(repo: Path, reviews: int) -> str:
    """The MLflow run of the model the pipeline left, after checking it was trained on ``reviews`` reviews."""
    assert reviews_read(repo) == reviews
    assert (repo / "models/model.pt").stat().st_size > 0 and (repo / "metrics.json").exists()
    return json.loads((repo / "reports/train.json").read_text())["mlflow_run_id"]


def ingest_deps(repo: Path) -> list[str]:
    return [
        dep["path"]
        for dep in yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["ingest"]["deps"]
    ]


def test_own_data_of_every_kind_is_an_input_dvc_hashes_and_is_never_written(tmp_path):
    """Two whole pipelines: an untracked file through `dvc repro`, then a path outside the project
    through `dvc exp run -S data.source=...` (the two ways a source is named to MLflow). The kind
    only changes what ingest reads, so `dvc exp run` of ingest alone then goes back to the
    untracked file (the kind DVC once deleted) and shows DVC hashing the other kinds in place."""
    repo = make_project(tmp_path, FAST, tarball=False)
    made = {
        kind: make_source(kind, repo, kind.replace(" ", "-"), 48 + 4 * n, seed=n)
        for n, kind in enumerate(KINDS)
    }
    digests = {source: digest(repo, source) for source, _ in made.values()}

    first, first_reviews = made["untracked file"]
    update_params(repo, {"data": {"source": first}})
    dvc("repro", cwd=repo)
    first_run = trained_on(repo, first_reviews)
    outside, outside_reviews = made["absolute path outside"]
    dvc("exp", "run", "-S", f"data.source={outside}", cwd=repo)
    assert trained_on(repo, outside_reviews) != first_run

    for kind in ("untracked file", "committed file", "dvc-added file", "aclImdb folder"):
        source, reviews = made[kind]
        dvc("exp", "run", "-S", f"data.source={source}", "ingest", cwd=repo)
        assert reviews_read(repo) == reviews, kind
        assert source in ingest_deps(repo), kind
    assert {source: digest(repo, source) for source in digests} == digests
    assert not (repo / "data/raw/imdb").exists() or not any((repo / "data/raw/imdb").iterdir()), (
        "no download for a user's own source"
    )
