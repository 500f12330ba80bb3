"""Stage encode: tokens -> padded id matrices, true lengths and labels for train, val and test."""

import pandas as pd

from rnn_sentiment import atomic, cli, encoding, params, paths, tokenizer, vocab


def main() -> None:
    config = params.load().encode
    reviews = pd.read_parquet(paths.REVIEWS)
    index = vocab.read(paths.VOCAB)
    stats = {}
    with atomic.atomic_dir(paths.ENCODED) as out:
        for name in encoding.SPLITS:
            rows = reviews[reviews["split"] == name]
            tokens = tokenizer.tokenize_series(rows["text"], config.max_len)
            split = encoding.encode(tokens, rows["label"].to_numpy(), index, config.max_len, config.truncate)
            encoding.save(split, out, name)
            stats[name] = encoding.stats(tokens, split, config.max_len)
    atomic.write_json(paths.ENCODE_STATS, stats)


if __name__ == "__main__":
    cli.run(main)
