"""Fixtures: synthetic aclImdb-layout tarballs and throwaway git+DVC copies of this project.

Nothing here touches the real IMDB data: reviews are generated from small word lists, so a
tiny model can learn them in seconds and every test still runs the real dvc / mlflow code.
"""

import contextlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

# the generator a user runs for an offline smoke run
from tools import generate_reviews as generator

PROJECT = Path(__file__).resolve().parents[1]

synthetic_review = generator.review
write_imdb_tarball = generator.write_tarball


SMALL_PARAMS = {
    "data": {"url": ""},
    # torch.export of the network takes half the train stage's time here; the browser test's
    # project logs it.
    "mlflow": {"log_network": False},
    "vocab": {"min_freq": 1, "max_size": 1000},
    # 16 tokens, head and tail, still hold a review's closing cue.
    "encode": {"max_len": 16},
    "model": {"embed_dim": 16, "hidden_dim": 16, "dropout": 0.3},
    # ~15 steps per epoch: an average over ~300 steps (the default decay) would hardly leave the start.
    "train": {
        "epochs": 3,
        "batch_size": 16,
        "lr": 0.01,
        "patience": 2,
        "threads": 1,
        "ema_decay": 0.0,
    },
}


def run(
    cmd: list[str],
    cwd: Path,
    check: bool = True,
    env: dict | None = None,
    timeout: int = 600,
    stdin: str | None = None,
):
    # DVC runs stage commands with `python` from PATH: make that this interpreter, venv or not.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        env={**os.environ, "PATH": path, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def dvc(*args: str, cwd: Path, check: bool = True, env: dict | None = None):
    return run([sys.executable, "-m", "dvc", *args], cwd, check, env)


def run_stage(name: str, cwd: Path) -> tuple[int, str]:
    """``python stages/<name>.py`` in ``cwd``, in this process: the stage's own code and exit
    handling without an interpreter's start-up. Returns (exit code, stderr)."""
    from rnn_sentiment.core import cli

    spec = importlib.util.spec_from_file_location(
        f"stage_{name}", PROJECT / "stages" / f"{name}.py"
    )
    stage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stage)
    stderr = io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stderr(stderr):
        try:
            cli.run(stage.main)
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
    return code, stderr.getvalue()


def stage_folder(root: Path, params: dict | None = None) -> Path:
    """A folder holding only params.yaml (SMALL_PARAMS plus ``params``): enough for a stage run
    in-process, which needs neither git nor DVC."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT / "params.yaml", root / "params.yaml")
    update_params(root, SMALL_PARAMS)
    if params:
        update_params(root, params)
    return root


def update_params(repo: Path, changes: dict) -> None:
    path = repo / "params.yaml"
    config = yaml.safe_load(path.read_text())
    for section, values in changes.items():
        if isinstance(values, dict):
            config[section].update(values)
        else:
            config[section] = values
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def make_project(root: Path, params: dict | None = None, tarball: bool = True) -> Path:
    """A git + DVC repo holding this project's pipeline and a synthetic dataset."""
    repo = root / "project"
    repo.mkdir()
    for name in ("dvc.yaml", "params.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(PROJECT / name, repo / name)
    for folder in ("stages", "src", "behaviour"):
        shutil.copytree(
            PROJECT / folder,
            repo / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    (repo / "data").mkdir()
    (repo / "models").mkdir()
    update_params(repo, SMALL_PARAMS)
    if params:
        update_params(repo, params)
    run(["git", "init", "-q"], repo)
    run(["git", "config", "user.email", "test@example.com"], repo)
    run(["git", "config", "user.name", "test"], repo)
    dvc("init", "-q", cwd=repo)
    dvc("config", "core.analytics", "false", cwd=repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "fixture"], repo)
    if tarball:  # where the download would put it
        (repo / "data/raw/imdb").mkdir(parents=True)
        write_imdb_tarball(repo / "data/raw/imdb/aclImdb_v1.tar.gz")
    return repo


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests first, so that the workers start the longest files first and none is
    left running one alone at the end (xdist hands out files in this order)."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: one worker more than the CPU cores, at least 3. The slow tests spend much of
    their time waiting on the processes they start (stages, servers, a browser)."""
    return max(3, (os.cpu_count() or 1) + 1)


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """In-process torch work in tests is tiny: threads gain nothing, and OpenMP spinning stalls
    on a busy 2-core machine (the stages the tests run set their own, train.threads: 1)."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def no_inherited_tracking_uri():
    """`mlflow.set_tracking_uri` also sets MLFLOW_TRACKING_URI in os.environ, which every later
    subprocess inherits: a stage started by the next test, or by a module's fixture set up before
    it, would log to another test's store. So it is removed before each test and after it (not by
    monkeypatch, whose undo would put back a URI that a fixture set before the test)."""
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield
    os.environ.pop("MLFLOW_TRACKING_URI", None)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, worker_id) -> Path:
    """One small project with `dvc repro` already run, shared by the whole run, its xdist workers
    included (the first to need it builds it under a file lock; the others wait and reuse it):
    tests only read it; one that edits or reruns a project works on ``trained_copy``."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the workers' base folders share this parent
    folder = root / "trained"
    with FileLock(root / "trained.lock"):
        if not (folder / "built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            os.environ.pop("MLFLOW_TRACKING_URI", None)
            dvc("repro", cwd=make_project(folder))
            (folder / "built").touch()
    return folder / "project"


@pytest.fixture
def trained_copy(trained_project, tmp_path) -> Path:
    """The trained project copied with its DVC cache, for a test that edits or reruns it (cheaper
    than a `dvc repro` of its own). The copy starts an MLflow store of its own, since the shared
    store's artifact root is the original's."""
    copy = shutil.copytree(trained_project, tmp_path / "project", symlinks=True)
    (copy / "mlflow.db").unlink()
    shutil.rmtree(copy / "mlruns")
    return copy
