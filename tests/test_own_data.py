"""A user's own data is an input DVC hashes, never an output it owns: through the real `dvc repro`
and `dvc exp run -S data.source=...`, every kind of source trains a model and is byte-identical
afterwards. A queued `dvc exp run` on own data: tests/test_experiments.py."""

import hashlib
import json
import random
from pathlib import Path

import pytest

from conftest import dvc, generator, make_project, run, synthetic_review, update_params

pytestmark = pytest.mark.slow
KINDS = ["untracked file", "committed file", "dvc-added file", "absolute path outside", "aclImdb folder"]
FAST = {"train": {"epochs": 1}}
BACK_AND_FORTH = "untracked file"  # the kind DVC once deleted


def write_folder(root: Path, per_folder: int, seed: int) -> None:
    rng = random.Random(seed)
    for split in ("train", "test"):
        for polarity in ("pos", "neg"):
            folder = root / "aclImdb" / split / polarity
            folder.mkdir(parents=True)
            for number in range(per_folder):
                (folder / f"{number}_{8 if polarity == 'pos' else 2}.txt").write_text(
                    synthetic_review(rng, polarity == "pos"), encoding="utf-8")


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
        total.update(str(file.relative_to(path.parent)).encode() + hashlib.sha256(file.read_bytes()).digest())
    return total.hexdigest()


def trained_on(repo: Path, reviews: int) -> str:
    """The MLflow run of the model the pipeline left, after checking it was trained on ``reviews`` reviews."""
    counts = json.loads((repo / "reports/data.json").read_text())
    assert sum(v for k, v in counts.items() if k.split("_")[0] in ("train", "val", "test")) == reviews
    assert (repo / "models/model.pt").stat().st_size > 0 and (repo / "metrics.json").exists()
    return json.loads((repo / "reports/train.json").read_text())["mlflow_run_id"]


@pytest.mark.parametrize("kind", KINDS)
def test_own_data_trains_through_repro_and_exp_run_and_is_never_written(tmp_path, kind):
    repo = make_project(tmp_path, FAST, tarball=False)
    first, first_reviews = make_source(kind, repo, "first", 48, seed=1)
    second, second_reviews = make_source(kind, repo, "second", 64, seed=2)
    sources = {first: digest(repo, first), second: digest(repo, second)}

    update_params(repo, {"data": {"source": first}})
    dvc("repro", cwd=repo)
    first_run = trained_on(repo, first_reviews)

    dvc("exp", "run", "-S", f"data.source={second}", cwd=repo)
    second_run = trained_on(repo, second_reviews)
    assert second_run != first_run
    if kind == BACK_AND_FORTH:  # once is enough: each run costs the whole pipeline
        dvc("exp", "run", "-S", f"data.source={first}", cwd=repo)
        trained_on(repo, first_reviews)
    assert {source: digest(repo, source) for source in sources} == sources
    assert not (repo / "data/raw/imdb").exists() or not any((repo / "data/raw/imdb").iterdir()), \
        "no download for a user's own source"
