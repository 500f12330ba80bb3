"""Files: write-then-rename (a reader, or a killed writer, never sees a half-written file).

A write's temporary file or folder is ``.tmp.<target name>.<pid>.<random>`` beside its target:
``.gitignore`` ignores ``.tmp*``, so what a killed writer leaves is never committed, and the next
write of that target removes it once its process is gone.
"""

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from rnn_sentiment.core.errors import PipelineError, first_line


def _temp_prefix(target: Path) -> str:
    return f".tmp.{target.name}."


def _sweep_leftovers(target: Path) -> None:
    """Remove temporaries of ``target`` whose writer, named by the pid in their name, is dead."""
    prefix = _temp_prefix(target)
    for leftover in target.parent.glob(f"{glob.escape(prefix)}*"):
        pid = leftover.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_leftovers(target)
    fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(target)}{os.getpid()}.", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; swap it in place of ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_leftovers(target)
    prefix = f"{_temp_prefix(target)}{os.getpid()}."
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=target.parent))
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_writable(folders: list[str | os.PathLike]) -> None:
    """Fail now, in one line, if any output folder cannot be written: not after an hour of work."""
    for folder in map(Path, folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise PipelineError(
                f"{folder}: cannot write outputs there ({error.strerror or error})"
            ) from None


def write_tsv(frame: pd.DataFrame, target: str | os.PathLike, index: bool = False) -> None:
    """A table as tab-separated text with no quoting: readable, diffable, no pickle."""
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, sep="\t", index=index, quoting=3, lineterminator="\n")


def read_tsv(path: str | os.PathLike, text_column: str, what: str) -> pd.DataFrame:
    """A table ``write_tsv`` wrote; ``text_column`` stays text (a token "null" is not missing)."""
    try:
        return pd.read_csv(
            path,
            sep="\t",
            quoting=3,
            dtype={text_column: str},
            keep_default_na=False,
            encoding="utf-8",
        )
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: cannot read {what} ({first_line(error)})") from None


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: str | os.PathLike, data: dict) -> None:
    write_text(target, json.dumps(data, indent=2, sort_keys=True) + "\n")
