"""Read labelled reviews from an aclImdb tarball or folder, or from a CSV/TSV/Parquet/JSONL table.

Every reader returns one DataFrame with columns ``text`` (str), ``label`` (0 = negative,
1 = positive) and ``split`` ("train" or "test"; tables without a split column get none).
"""

import posixpath
import re
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from rnn_sentiment.errors import PipelineError, first_line
from rnn_sentiment.params import DataParams

REVIEW_MEMBER = re.compile(r"^(?:\./)?(?:[^/]+/)?(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
MAX_REVIEW_BYTES = 1 << 20
MAX_ARCHIVE_BYTES = 4 << 30
LABEL_NAMES = {
    "1": 1, "pos": 1, "positive": 1, "true": 1, "1.0": 1,
    "0": 0, "neg": 0, "negative": 0, "false": 0, "0.0": 0,
}
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
                  ".jsonl": "jsonl", ".ndjson": "jsonl"}
FOLDERS = [(split, polarity) for split in ("train", "test") for polarity in ("pos", "neg")]


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(f"{where}: not UTF-8 (bad byte at offset {error.start})") from None


def _frame(records: list[tuple[str, str, str]], where: str) -> pd.DataFrame:
    """Build the review frame from (split, polarity, text) and check all four folders are there."""
    frame = pd.DataFrame(records, columns=["split", "polarity", "text"])
    counts = frame.groupby(["split", "polarity"]).size()
    missing = [f"{s}/{p}" for s, p in FOLDERS if counts.get((s, p), 0) == 0]
    if missing:
        raise PipelineError(f"{where}: no reviews in aclImdb/{', aclImdb/'.join(missing)} "
                            "(expected aclImdb/{train,test}/{pos,neg}/ID_RATING.txt)")
    frame["label"] = (frame.pop("polarity") == "pos").astype("int8")
    return frame[["text", "label", "split"]]


def unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why unpacking this member could write outside its folder or create a device, else None."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or re.match(r"^[A-Za-z]:", member.name):
        return "absolute path"
    if ".." in name.parts:
        return "'..' in path"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device or FIFO file"
    if member.issym() or member.islnk():
        base = name.parent if member.issym() else PurePosixPath()
        target = posixpath.normpath(str(base / member.linkname))
        if PurePosixPath(member.linkname).is_absolute() or target == ".." or target.startswith("../"):
            return f"link to {member.linkname!r} outside the archive"
    return None


def read_tarball(path: Path) -> pd.DataFrame:
    """Stream review files out of the tarball without extracting anything to disk.

    The archive is refused as a whole if any member is unsafe to unpack (absolute path, '..',
    a link leading out, a device), so an archive built to attack ``tar -x`` is never trusted.
    """
    records, total = [], 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                reason = unsafe_member(member)
                if reason:
                    raise PipelineError(f"{path}: unsafe archive member {member.name!r} ({reason}); refused")
                match = REVIEW_MEMBER.match(member.name)
                if not match or not member.isreg():
                    continue
                if member.size > MAX_REVIEW_BYTES:
                    raise PipelineError(f"{path}: {member.name} is {member.size} bytes, "
                                        f"over the {MAX_REVIEW_BYTES}-byte limit for one review")
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    raise PipelineError(f"{path}: reviews unpack to over {MAX_ARCHIVE_BYTES} bytes")
                raw = archive.extractfile(member).read()
                records.append((match[1], match[2], _decode(raw, f"{path}:{member.name}")))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        detail = " ".join(str(error).split())[:200]  # tarfile's messages span several lines
        raise PipelineError(f"{path}: corrupt or truncated archive ({detail})") from None
    return _frame(records, str(path))


def read_folder(path: Path) -> pd.DataFrame:
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    records = []
    for split, polarity in FOLDERS:
        for file in sorted((root / split / polarity).glob("*_*.txt")):
            if file.is_file() and not file.is_symlink():
                records.append((split, polarity, _decode(file.read_bytes(), str(file))))
    return _frame(records, str(path))


def _read_table_file(path: Path, kind: str) -> pd.DataFrame:
    try:
        if kind == "parquet":
            return pd.read_parquet(path)
        if kind == "jsonl":
            return pd.read_json(path, lines=True, dtype=False, encoding="utf-8")
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",", dtype=str, index_col=False,
                           keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(f"{path}: not UTF-8 (bad byte at offset {error.start})") from None
    except pd.errors.EmptyDataError:
        raise PipelineError(f"{path}: file is empty") from None
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise PipelineError(f"{path}: cannot be read as {kind} ({first_line(error)})") from None


def _labels(values: pd.Series, path: Path, first_row: int) -> pd.Series:
    names = values.astype(str).str.strip().str.lower()
    labels = names.map(LABEL_NAMES)
    bad = labels.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PipelineError(f"{path}: row {row + first_row}: label {values.iloc[row]!r} is not "
                            "one of 0/1, neg/pos, negative/positive")
    return labels.astype("int8")


def read_table(path: Path, data: DataParams) -> pd.DataFrame:
    kind = TABLE_SUFFIXES[path.suffix.lower()]
    table = _read_table_file(path, kind)
    # Rows are numbered as a spreadsheet shows them: header is row 1 in CSV/TSV; JSONL/Parquet from 1.
    first_row = 2 if kind in ("csv", "tsv") else 1
    missing = [c for c in (data.text_column, data.label_column) if c not in table.columns]
    if missing:
        raise PipelineError(f"{path}: no column {missing[0]!r} (columns: {', '.join(map(str, table.columns))}); "
                            "set data.text_column / data.label_column")
    if table.empty:
        raise PipelineError(f"{path}: file has a header but no rows")
    text = table[data.text_column]
    not_text = ~text.map(lambda v: isinstance(v, str) or v is None)
    if not_text.any():
        row = int(np.flatnonzero(not_text.to_numpy())[0])
        raise PipelineError(f"{path}: row {row + first_row}: text {text.iloc[row]!r} is not a string")
    blank = text.isna() | text.fillna("").str.strip().eq("")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise PipelineError(f"{path}: row {row + first_row}: empty text in column {data.text_column!r}")
    frame = pd.DataFrame({"text": text.astype(str), "label": _labels(table[data.label_column], path, first_row)})
    if data.split_column and data.split_column in table.columns:
        split = table[data.split_column].astype(str).str.strip().str.lower()
        bad = ~split.isin(["train", "test"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise PipelineError(f"{path}: row {row + first_row}: split "
                                f"{table[data.split_column].iloc[row]!r} is not train or test")
        frame["split"] = split.to_numpy()
    else:
        frame["split"] = ""
    return frame.reset_index(drop=True)


def read_source(path: Path, data: DataParams) -> pd.DataFrame:
    """Dispatch on what ``path`` is; the frame's texts are checked non-empty."""
    if not path.exists():
        raise PipelineError(f"data.source: {path} does not exist")
    if path.is_dir():
        frame = read_folder(path)
    elif path.suffix.lower() in TABLE_SUFFIXES:
        frame = read_table(path, data)
    elif path.name.endswith((".tar.gz", ".tgz", ".tar")):
        if path.stat().st_size == 0:
            raise PipelineError(f"{path}: file is empty")
        frame = read_tarball(path)
    else:
        raise PipelineError(f"data.source: {path} is not an aclImdb folder, a .tar.gz, "
                            f"or one of {', '.join(sorted(TABLE_SUFFIXES))}")
    empty = frame["text"].str.strip().eq("")
    if empty.any():
        raise PipelineError(f"{path}: review {int(np.flatnonzero(empty.to_numpy())[0])} has empty text")
    return frame
