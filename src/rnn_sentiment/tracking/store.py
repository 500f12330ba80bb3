"""MLflow plumbing: which store, which run, which tags; failures become one clear line.

With no ``MLFLOW_TRACKING_URI`` the store is ``mlflow.db`` (SQLite) with artifacts in
``mlruns/``, both at the project root. The root is found even from the temporary copies in
which ``dvc exp run --queue`` runs experiments, so queued runs land in the user's own store.
"""

import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rnn_sentiment.core.errors import PipelineError, first_line
from rnn_sentiment.core.files import write_json

# Fail within seconds, not after minutes of retries, when a tracking server is down.
CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
EXPERIMENT_KIND, MODEL_TRAINING = "mlflow.experimentKind", "custom_model_development"
QUEUE_WORKSPACE_MARKER = f"{os.sep}.dvc{os.sep}tmp{os.sep}exps{os.sep}"


def project_root(cwd: Path | None = None) -> Path:
    """The user's project, also when DVC runs us in ``<project>/.dvc/tmp/exps/<tmp>/``."""
    cwd = (cwd or Path.cwd()).resolve()
    text = str(cwd)
    if QUEUE_WORKSPACE_MARKER in text:
        return Path(text.split(QUEUE_WORKSPACE_MARKER)[0])
    return cwd


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{project_root() / 'mlflow.db'}"


def _default_artifact_location() -> str | None:
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return None  # a server decides where its artifacts live
    return (project_root() / "mlruns").as_uri()


def client_defaults() -> None:
    """``CLIENT_DEFAULTS`` in the environment, where MLflow reads them, unless the user set them."""
    for name, value in CLIENT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def connect(experiment: str) -> str:
    """Point MLflow at the store, check it answers, and return the experiment id. The experiment
    is marked as model training (MLflow's ``mlflow.experimentKind`` tag)."""
    import mlflow

    client_defaults()
    # A failure reaches the user as one line (``tracked``); MLflow's own log lines, tracebacks of
    # each retry included, are off unless MLFLOW_LOGGING_LEVEL asks for them.
    logging.getLogger("mlflow").setLevel(os.environ.get("MLFLOW_LOGGING_LEVEL", "CRITICAL").upper())
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        found = mlflow.get_experiment_by_name(experiment)
        if found is None:
            return mlflow.create_experiment(
                experiment,
                artifact_location=_default_artifact_location(),
                tags={EXPERIMENT_KIND: MODEL_TRAINING},
            )
        if found.tags.get(EXPERIMENT_KIND) != MODEL_TRAINING:
            mlflow.MlflowClient().set_experiment_tag(
                found.experiment_id, EXPERIMENT_KIND, MODEL_TRAINING
            )
        return found.experiment_id
    except Exception as error:  # connection refused, HTTP errors, bad URI: all the same to the user
        raise unreachable(uri, error) from None


def unreachable(uri: str, error: Exception) -> PipelineError:
    return PipelineError(
        f"MLflow tracking store {uri} failed: {first_line(underlying_error(error), None)}"
    )


@contextmanager
def tracked(action: str) -> Iterator[None]:
    """Turn any MLflow failure inside the block into one line naming the store."""
    try:
        yield
    except PipelineError:
        raise
    except Exception as error:
        if type(error).__module__.split(".")[0] not in (
            "mlflow",
            "requests",
            "urllib3",
            "sqlalchemy",
        ):
            raise
        raise PipelineError(
            f"MLflow tracking store {tracking_uri()} failed while {action}: "
            f"{first_line(underlying_error(error), None)}"
        ) from None


def underlying_error(error: BaseException) -> BaseException:
    """The error that says what happened: the database driver's own where SQLAlchemy wrapped one
    (its first line can be a hint about autoflush instead of "database is locked"); else the
    innermost OS error, such as a refused connection, a timeout or an unknown host (MLflow's and
    requests' wrappers around it repeat the URL at length); else the error itself."""
    seen, os_error = error, None
    while seen is not None:
        if getattr(seen, "orig", None) is not None:
            return seen.orig
        if isinstance(seen, OSError):
            os_error = seen
        seen = seen.__cause__ or seen.__context__
    return os_error or error


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_tags() -> dict[str, str]:
    """Where this run came from: commit, dirty tree, DVC experiment."""
    tags = {
        "mlflow.source.git.commit": git_commit(),
        "git.dirty": str(bool(_git("status", "--porcelain", "--untracked-files=no"))).lower(),
    }
    if os.environ.get("DVC_EXP_NAME"):
        tags["dvc.exp_name"] = os.environ["DVC_EXP_NAME"]
    if os.environ.get("DVC_EXP_BASELINE_REV"):
        tags["dvc.exp_baseline_rev"] = os.environ["DVC_EXP_BASELINE_REV"]
    return {k: v for k, v in tags.items() if v}


def git_commit() -> str:
    return _git("rev-parse", "HEAD")


def log_inputs(stage: str, tagged: list[Path], listed: list[Path]) -> dict[str, str]:
    """The MD5 of every file a stage reads, the one DVC records in dvc.lock and names its cache
    entry by, so a run points to exact inputs: a tag ``input.md5.<path>`` for each ``tagged`` file,
    and ``inputs/<stage>.json`` with those and every ``listed`` file or folder's files (the encoded
    arrays: dozens of tags would bury the rest). Paths are the workspace's, as dvc.lock names them,
    also in a queued experiment's temporary copy. Returns the digests by those paths."""
    import mlflow

    workspace = Path.cwd().resolve()
    files = sorted(
        f for p in [*tagged, *listed] for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()
    )
    digests = {}
    for f in files:
        with open(f, "rb") as handle:
            digests[f.resolve().relative_to(workspace).as_posix()] = hashlib.file_digest(
                handle, "md5"
            ).hexdigest()
    mlflow.set_tags(
        {
            f"input.md5.{path}": digests[path]
            for path in (p.resolve().relative_to(workspace).as_posix() for p in tagged)
        }
    )
    mlflow.log_dict(digests, f"inputs/{stage}.json")
    return digests


def write_run_info(
    path: Path, run_id: str, experiment_id: str, model_uri: str, network_uri: str | None
) -> None:
    write_json(
        path,
        {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "model_uri": model_uri,
            "network_uri": network_uri,
        },
    )


def read_run_info(path: Path) -> dict:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return {key: str(info[key]) for key in ("run_id", "experiment_id", "model_uri")}
    except FileNotFoundError:
        raise PipelineError(f"{path}: not found; run `dvc repro train` first") from None
    except (ValueError, KeyError, TypeError):
        raise PipelineError(
            f"{path}: not a run-info file (expects run_id, experiment_id and model_uri)"
        ) from None
