"""Make the raw source present: download the official tarball when it is missing, else check it."""

import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from rnn_sentiment.atomic import atomic_path
from rnn_sentiment.errors import PipelineError

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path, sha256: str, timeout: float = 30.0) -> None:
    """Stream ``url`` into ``target`` with a progress bar; keep it only if its SHA-256 matches."""
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=target.name,
                          file=sys.stderr) as bar:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise PipelineError(
                f"{target}: missing and the download from {url} failed ({reason}); "
                f"put the aclImdb_v1.tar.gz file (or another source named in data.source) at {target}"
            ) from None
        actual = sha256_of(tmp)
        if sha256 and actual != sha256.lower():
            raise PipelineError(f"{url}: downloaded file has SHA-256 {actual}, expected {sha256}")


def ensure_source(source: str, url: str, sha256: str) -> Path:
    """Return the source path; download it first when it is missing and a URL is configured."""
    path = Path(source)
    if path.exists():
        return path
    if not url:
        raise PipelineError(f"data.source: {path} does not exist")
    if os.environ.get("RNN_SENTIMENT_OFFLINE"):
        raise PipelineError(f"{path}: missing; offline, so put the aclImdb_v1.tar.gz file there")
    download(url, path, sha256)
    return path
