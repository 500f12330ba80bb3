"""The default source: the official IMDB tarball, downloaded into a folder of its own.

Only this download writes a file, always at ``paths.DOWNLOAD``; any other ``data.source`` is the
user's own data, which the pipeline reads and never writes, moves or deletes.
"""

import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from rnn_sentiment.core import paths
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.files import atomic_path
from rnn_sentiment.core.params import DataParams

CHUNK = 1 << 20


def download(url: str, target: Path, sha256: str, timeout: float = 30.0) -> None:
    """Stream ``url`` into ``target`` with a progress bar; keep it only if its SHA-256 matches."""
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(
                    total=total, unit="B", unit_scale=True, desc=target.name, file=sys.stderr
                ) as bar:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise PipelineError(
                f"{target}: missing and the download from {url} failed ({reason}); "
                "point data.source at a local copy of the tarball instead"
            ) from None
        with open(tmp, "rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
        if sha256 and actual != sha256.lower():
            raise PipelineError(f"{url}: downloaded file has SHA-256 {actual}, expected {sha256}")


def is_download(source: str) -> bool:
    """Whether ``data.source`` names the default download rather than the user's own data."""
    return os.path.abspath(source) == os.path.abspath(paths.DOWNLOAD)


def fetch(data: DataParams) -> None:
    """Make the download folder; fill it when ``data.source`` is the download and it is missing.

    A download already there is used as it is. The messages never suggest copying a tarball into
    the folder: it is a DVC output, and `dvc exp run` empties a folder output whose listing is not
    in the local cache (a fresh clone's), so a copy put there by hand can be lost; a copy named by
    ``data.source`` is a dependency, which nothing deletes."""
    paths.DOWNLOAD.parent.mkdir(parents=True, exist_ok=True)
    if not is_download(data.source) or paths.DOWNLOAD.exists():
        return
    if not data.url:
        raise PipelineError(f"data.source: {data.source} does not exist and data.url is empty")
    if os.environ.get("RNN_SENTIMENT_OFFLINE"):
        raise PipelineError(
            f"{data.source}: missing and offline; point data.source at a local copy of the "
            "tarball instead"
        )
    download(data.url, paths.DOWNLOAD, data.sha256)
