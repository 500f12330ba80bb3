"""The reviews table (``data/interim/reviews.parquet``), written and read in chunks.

Ingest streams the source twice over, never holding its texts: pass 1 copies every chunk into
a scratch Parquet file and keeps only what splitting needs per row (label, source split and a
64-bit hash of the text, a few bytes each). Splits are assigned on those columns; pass 2 then
copies the chosen rows, with their split, into the table. Later stages read it back chunk by
chunk, one Parquet row group at a time.
"""

from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rnn_sentiment.data import sources
from rnn_sentiment.data.sources import CHUNK_ROWS

SCHEMA = pa.schema([("text", pa.large_string()), ("label", pa.int8()), ("split", pa.string())])


def spool(chunks: Iterable[pd.DataFrame], scratch: Path) -> pd.DataFrame:
    """Pass 1: texts to ``scratch``; returns one small row per review: label, split, text_hash."""
    rows = []
    with pq.ParquetWriter(scratch, pa.schema([SCHEMA.field("text")])) as writer:
        for chunk in chunks:
            writer.write_table(pa.table({"text": pa.array(chunk["text"].to_numpy(dtype=object), pa.large_string())}))
            rows.append(pd.DataFrame({
                "label": chunk["label"].to_numpy(dtype=np.int8),
                "split": chunk["split"].to_numpy(dtype=object),
                "text_hash": pd.util.hash_array(chunk["text"].to_numpy(dtype=object)),
            }))
    table = pd.concat(rows, ignore_index=True)
    table.insert(0, "row", np.arange(len(table)))
    return table


def write(scratch: Path, chosen: pd.DataFrame, target: Path) -> None:
    """Pass 2: the rows of ``chosen`` (by their ``row`` in the scratch file), in file order, with
    ``chosen``'s label and split."""
    texts = pq.ParquetFile(scratch)
    total, chosen_rows = texts.metadata.num_rows, chosen["row"].to_numpy()
    keep = np.zeros(total, dtype=bool)
    keep[chosen_rows] = True
    split = np.empty(total, dtype=object)
    split[chosen_rows] = chosen["split"].to_numpy(dtype=object)
    label = np.zeros(total, dtype=np.int8)
    label[chosen_rows] = chosen["label"].to_numpy()
    start = 0
    with pq.ParquetWriter(target, SCHEMA) as writer:
        for batch in texts.iter_batches(batch_size=CHUNK_ROWS):
            rows = slice(start, start + batch.num_rows)
            start += batch.num_rows
            mask = keep[rows]
            if mask.any():
                writer.write_table(pa.table({
                    "text": batch.column("text").filter(pa.array(mask)),
                    "label": pa.array(label[rows][mask], pa.int8()),
                    "split": pa.array(split[rows][mask], pa.string()),
                }, schema=SCHEMA))


def chunks(path: Path, columns: list[str]) -> Iterator[pd.DataFrame]:
    """The table's ``columns``, at most CHUNK_ROWS reviews at a time."""
    return sources.parquet_chunks(path, columns)


def split_sizes(path: Path) -> dict[str, int]:
    """Reviews per split, read from the small split column alone."""
    split = pq.read_table(path, columns=["split"]).column("split").to_pandas()
    return {name: int(count) for name, count in split.value_counts().items()}
