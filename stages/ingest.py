"""Stage ingest: raw source -> one table of (text, label, split) with train/val/test splits."""

from pathlib import Path

from rnn_sentiment import atomic, cli, params, paths, sources, splits


def main() -> None:
    config = params.load()
    source = Path(config.data.source)
    raw = sources.read_source(source, config.data)
    reviews = splits.assign_splits(raw, config.data, config.seed, str(source))
    duplicates = splits.count_train_test_duplicates(reviews)
    if duplicates:
        splits.warn(f"{source}: {duplicates} test reviews also appear verbatim in train/val")
    with atomic.atomic_path(paths.REVIEWS) as tmp:
        reviews.to_parquet(tmp, index=False)
    counts = reviews.groupby(["split", "label"]).size()
    atomic.write_json(paths.DATA_STATS, {
        **{f"{split}_{'pos' if label else 'neg'}": int(n) for (split, label), n in counts.items()},
        "test_duplicates_of_train": duplicates,
    })


if __name__ == "__main__":
    cli.run(main)
