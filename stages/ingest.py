"""Stage ingest: raw source -> one table of (text, label, split) with train/val/test splits.

The source streams through in chunks (see reviews.py), so its size is bounded by disk, not memory.
"""

import tempfile
from pathlib import Path

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.data import reviews, sources, splits


def main() -> None:
    config = params.load()
    source = Path(config.data.source)
    # The scratch copy lives in the system temp dir ($TMPDIR), so a refused source leaves no trace in data/.
    with tempfile.TemporaryDirectory(prefix="rnn-sentiment-ingest.") as scratch:
        spooled = Path(scratch) / "texts.parquet"
        chosen = splits.assign_splits(
            reviews.spool(sources.iter_source(source, config.data), spooled),
            config.data,
            config.seed,
            str(source),
        )
        duplicates = splits.count_train_test_duplicates(chosen)
        if duplicates:
            splits.warn(f"{source}: {duplicates} test reviews also appear verbatim in train/val")
        with files.atomic_path(paths.REVIEWS) as tmp:
            reviews.write(spooled, chosen, tmp)
    files.write_json(
        paths.DATA_STATS,
        {
            **{
                f"{split}_{'pos' if label else 'neg'}": n
                for (split, label), n in splits.class_counts(chosen).items()
            },
            "test_duplicates_of_train": duplicates,
        },
    )


if __name__ == "__main__":
    cli.run(main)
