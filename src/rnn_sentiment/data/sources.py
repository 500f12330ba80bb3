"""Read labelled reviews from an aclImdb tarball or folder, or from a CSV/TSV/Parquet/JSONL table.

Every reader streams: it yields DataFrames of at most ``CHUNK_ROWS`` reviews with columns
``text`` (str), ``label`` (0 = negative, 1 = positive) and ``split`` ("train" or "test"; tables
without a split column get ""), so a corpus far larger than memory passes through in pieces.
Checks that need the whole source (all four aclImdb folders, a table with rows) run after the
last chunk.
"""

import csv
import posixpath
import re
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rnn_sentiment.core.errors import PipelineError, first_line
from rnn_sentiment.core.params import DataParams

REVIEW_MEMBER = re.compile(r"^(?:\./)?(?:[^/]+/)?(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
MAX_REVIEW_BYTES = 1 << 20
MAX_ARCHIVE_BYTES = 4 << 30
LABEL_NAMES = {
    "1": 1,
    "pos": 1,
    "positive": 1,
    "true": 1,
    "1.0": 1,
    "0": 0,
    "neg": 0,
    "negative": 0,
    "false": 0,
    "0.0": 0,
}
TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
FOLDERS = [(split, polarity) for split in ("train", "test") for polarity in ("pos", "neg")]
CHUNK_ROWS = (
    5000  # reviews per chunk: a few tens of MB of text and tokens, whatever the corpus size
)


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PipelineError(f"{where}: not UTF-8 (bad byte at offset {error.start})") from None


def _aclimdb_chunks(records: Iterable[tuple[str, str, str]], where: str) -> Iterator[pd.DataFrame]:
    """Group (split, polarity, text) records into frames; after the last, check all four folders."""
    seen: Counter = Counter()
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) == CHUNK_ROWS:
            yield _aclimdb_frame(chunk, seen)
            chunk = []
    if chunk:
        yield _aclimdb_frame(chunk, seen)
    missing = [f"{s}/{p}" for s, p in FOLDERS if seen[(s, p)] == 0]
    if missing:
        raise PipelineError(
            f"{where}: no reviews in aclImdb/{', aclImdb/'.join(missing)} "
            "(expected aclImdb/{train,test}/{pos,neg}/ID_RATING.txt)"
        )


def _aclimdb_frame(records: list[tuple[str, str, str]], seen: Counter) -> pd.DataFrame:
    seen.update((split, polarity) for split, polarity, _ in records)
    frame = pd.DataFrame(records, columns=["split", "polarity", "text"])
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
        if (
            PurePosixPath(member.linkname).is_absolute()
            or target == ".."
            or target.startswith("../")
        ):
            return f"link to {member.linkname!r} outside the archive"
    return None


def _tarball_records(path: Path) -> Iterator[tuple[str, str, str]]:
    """Stream review files out of the tarball without extracting anything to disk.

    The archive is refused if any member is unsafe to unpack (absolute path, '..', a link
    leading out, a device), so an archive built to attack ``tar -x`` is never trusted.
    """
    total = 0
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                reason = unsafe_member(member)
                if reason:
                    raise PipelineError(
                        f"{path}: unsafe archive member {member.name!r} ({reason}); refused"
                    )
                match = REVIEW_MEMBER.match(member.name)
                if not match or not member.isreg():
                    continue
                if member.size > MAX_REVIEW_BYTES:
                    raise PipelineError(
                        f"{path}: {member.name} is {member.size} bytes, "
                        f"over the {MAX_REVIEW_BYTES}-byte limit for one review"
                    )
                total += member.size
                if total > MAX_ARCHIVE_BYTES:
                    raise PipelineError(f"{path}: reviews unpack to over {MAX_ARCHIVE_BYTES} bytes")
                raw = archive.extractfile(member).read()
                yield match[1], match[2], _decode(raw, f"{path}:{member.name}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        detail = " ".join(str(error).split())[:200]  # tarfile's messages span several lines
        raise PipelineError(f"{path}: corrupt or truncated archive ({detail})") from None


def _folder_records(path: Path) -> Iterator[tuple[str, str, str]]:
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    for split, polarity in FOLDERS:
        for file in sorted((root / split / polarity).glob("*_*.txt")):
            if file.is_file() and not file.is_symlink():
                yield split, polarity, _decode(file.read_bytes(), str(file))


def _check_aclimdb_folder(path: Path) -> None:
    """A folder must be in the aclImdb layout; a folder of tables is named as such."""
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    if any((root / split).is_dir() for split in ("train", "test")):
        return
    tables = sorted(p.name for p in path.iterdir() if p.suffix.lower() in TABLE_SUFFIXES)
    if tables:
        raise PipelineError(
            f"data.source: {path} is a folder of tables ({', '.join(tables[:3])}"
            f"{', ...' if len(tables) > 3 else ''}), not an aclImdb folder; "
            "point data.source at one file"
        )
    raise PipelineError(
        f"data.source: {path} is a folder without train/ or test/ "
        "(expected aclImdb/{train,test}/{pos,neg}/ID_RATING.txt)"
    )


def parquet_batches(path: Path, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """A Parquet file's ``columns`` (all by default), at most CHUNK_ROWS rows at a time, one row
    group after another. One reader over the whole file keeps much of what it has read until it
    ends (the kind of pyarrow behaviour apache/arrow#39808 reports): reading 2.2 GB of reviews
    that way grew the process by 1.3 GB by the 300th chunk. A reader per row group holds at most
    one group."""
    file = pq.ParquetFile(path)
    for group in range(file.num_row_groups):
        yield from file.iter_batches(batch_size=CHUNK_ROWS, row_groups=[group], columns=columns)


def parquet_chunks(path: Path, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """A Parquet file's ``columns`` (all by default) as data frames of at most CHUNK_ROWS rows."""
    for batch in parquet_batches(path, columns):
        yield batch.to_pandas()


def _open_table(path: Path, kind: str) -> Iterator[pd.DataFrame]:
    if kind == "parquet":
        yield from parquet_chunks(path)
    elif kind == "jsonl":
        with pd.read_json(
            path, lines=True, dtype=False, encoding="utf-8", chunksize=CHUNK_ROWS
        ) as reader:
            yield from reader
    else:
        # TSV has no quoting: a review that starts with a quote character is text, not a quoted field
        # that runs on over the following lines.
        quoting = csv.QUOTE_NONE if kind == "tsv" else csv.QUOTE_MINIMAL
        with pd.read_csv(
            path,
            sep="\t" if kind == "tsv" else ",",
            dtype=str,
            index_col=False,
            quoting=quoting,
            keep_default_na=False,
            encoding="utf-8",
            chunksize=CHUNK_ROWS,
        ) as reader:
            yield from reader


def _header(path: Path, kind: str) -> list[str]:
    """Column names as the file has them (pandas renames a repeated ``text`` to ``text.1``)."""
    if kind == "parquet":
        return pq.ParquetFile(path).schema_arrow.names
    if kind == "jsonl":
        return []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
    if kind == "tsv":
        return first.rstrip("\r\n").split("\t")
    return next(csv.reader([first]), [])


def _check_unique_columns(path: Path, kind: str) -> None:
    try:
        names = _header(path, kind)
    except UnicodeDecodeError:
        raise PipelineError(f"{path}: not UTF-8") from None
    except (OSError, ValueError) as error:
        raise PipelineError(f"{path}: cannot be read as {kind} ({first_line(error)})") from None
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise PipelineError(
            f"{path}: column {repeated[0]!r} appears {names.count(repeated[0])} times in the header; "
            "rename or drop the copies"
        )


def _table_file_chunks(path: Path, kind: str) -> Iterator[pd.DataFrame]:
    """The file's chunks as parsed, with every reader's failure turned into one line."""
    chunks = _open_table(path, kind)
    while True:
        try:
            chunk = next(chunks, None)
        except UnicodeDecodeError:
            raise PipelineError(f"{path}: not UTF-8") from None
        except pd.errors.EmptyDataError:
            raise PipelineError(f"{path}: file is empty") from None
        except (ValueError, OSError, pd.errors.ParserError) as error:
            raise PipelineError(f"{path}: cannot be read as {kind} ({first_line(error)})") from None
        if chunk is None:
            return
        yield chunk


def _labels(values: pd.Series, path: Path, first_row: int, column: str) -> pd.Series:
    missing = values.isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise PipelineError(
            f"{path}: row {row + first_row}: no label (column {column!r} is missing or null)"
        )
    names = values.astype(str).str.strip().str.lower()
    labels = names.map(LABEL_NAMES)
    bad = labels.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PipelineError(
            f"{path}: row {row + first_row}: label {str(values.iloc[row])!r} is not "
            "one of 0/1, neg/pos, negative/positive"
        )
    return labels.astype("int8")


def _table_chunks(path: Path, data: DataParams) -> Iterator[pd.DataFrame]:
    kind = TABLE_SUFFIXES[path.suffix.lower()]
    _check_unique_columns(path, kind)
    # Rows are numbered as a spreadsheet shows them: header is row 1 in CSV/TSV; JSONL/Parquet from 1.
    first_row = 2 if kind in ("csv", "tsv") else 1
    for table in _table_file_chunks(path, kind):
        yield _table_frame(table, path, data, first_row)
        first_row += len(table)
    if first_row == (2 if kind in ("csv", "tsv") else 1):
        raise PipelineError(f"{path}: file has a header but no rows")


def _table_frame(table: pd.DataFrame, path: Path, data: DataParams, first_row: int) -> pd.DataFrame:
    """One chunk checked and reshaped; ``first_row`` is the number of its first row in the file."""
    missing = [c for c in (data.text_column, data.label_column) if c not in table.columns]
    if missing:
        raise PipelineError(
            f"{path}: no column {missing[0]!r} (columns: {', '.join(map(str, table.columns))}); "
            "set data.text_column / data.label_column"
        )
    text = table[data.text_column]
    not_text = ~text.map(lambda v: isinstance(v, str) or v is None)
    if not_text.any():
        row = int(np.flatnonzero(not_text.to_numpy())[0])
        raise PipelineError(
            f"{path}: row {row + first_row}: text {text.iloc[row]!r} is not a string"
        )
    blank = text.isna() | text.fillna("").str.strip().eq("")
    if blank.any():
        row = int(np.flatnonzero(blank.to_numpy())[0])
        raise PipelineError(
            f"{path}: row {row + first_row}: empty text in column {data.text_column!r}"
        )
    frame = pd.DataFrame(
        {
            "text": text.astype(str),
            "label": _labels(table[data.label_column], path, first_row, data.label_column),
        }
    )
    if data.split_column and data.split_column in table.columns:
        split = table[data.split_column].astype(str).str.strip().str.lower()
        bad = ~split.isin(["train", "test"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise PipelineError(
                f"{path}: row {row + first_row}: split "
                f"{table[data.split_column].iloc[row]!r} is not train or test"
            )
        frame["split"] = split.to_numpy()
    else:
        frame["split"] = ""
    return frame.reset_index(drop=True)


def iter_source(path: Path, data: DataParams) -> Iterator[pd.DataFrame]:
    """Dispatch on what ``path`` is and stream its reviews; every text is checked non-empty."""
    if not path.exists():
        raise PipelineError(f"data.source: {path} does not exist")
    if path.is_dir():
        _check_aclimdb_folder(path)
        chunks = _aclimdb_chunks(_folder_records(path), str(path))
    elif path.suffix.lower() in TABLE_SUFFIXES:
        chunks = _table_chunks(path, data)
    elif path.name.endswith((".tar.gz", ".tgz", ".tar")):
        if path.stat().st_size == 0:
            raise PipelineError(f"{path}: file is empty")
        chunks = _aclimdb_chunks(_tarball_records(path), str(path))
    else:
        raise PipelineError(
            f"data.source: {path} is not an aclImdb folder, a .tar.gz, "
            f"or one of {', '.join(sorted(TABLE_SUFFIXES))}"
        )
    seen = 0
    for frame in chunks:
        empty = frame["text"].str.strip().eq("")
        if empty.any():
            raise PipelineError(
                f"{path}: review {seen + int(np.flatnonzero(empty.to_numpy())[0])} has empty text"
            )
        seen += len(frame)
        yield frame
