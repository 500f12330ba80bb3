"""Stage prepare_vocab: from the training split, chunk by chunk, the recurrent path's vocabulary
(tokens by frequency) and the n-gram path's table (n-grams by the reviews holding them, per class)."""

import numpy as np

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.data import reviews
from rnn_sentiment.text import learnability, ngrams, tokenizer, vocab


def train_chunks():
    """(tokens, labels) of the training reviews, one chunk at a time."""
    for chunk in reviews.chunks(paths.REVIEWS, ["text", "label", "split"]):
        train = chunk[chunk["split"] == "train"]
        yield tokenizer.tokenize_series(train["text"]), train["label"].to_numpy(dtype=np.int64)


def main() -> None:
    config = params.load()
    counts = vocab.count(tokens for tokens, _ in train_chunks())
    # before anything is written
    learnability.check(counts, config.data.source, config.data.text_column)
    built = vocab.build(counts, config.vocab.min_freq, config.vocab.max_size)
    # Only tokens seen min_df times can be part of an n-gram in min_df reviews: index those alone.
    counter = ngrams.NgramCounter(
        vocab.frequent(counts, config.ngrams.min_df), config.ngrams.order, config.ngrams.max_counted
    )
    if config.ngrams.max_features:
        for tokens, labels in train_chunks():
            counter.add(tokens, labels)
    table = counter.table(config.ngrams.min_df, config.ngrams.max_features)
    vocab.write(built, paths.VOCAB)
    ngrams.write(table, paths.NGRAMS)
    files.write_json(
        paths.VOCAB_STATS, {**vocab.stats(built, counts), **ngrams.stats(table, counter)}
    )


if __name__ == "__main__":
    cli.run(main)
