"""Stage prepare_vocab: tokenize the training split and build the vocabulary from it alone."""

import pandas as pd

from rnn_sentiment import atomic, cli, params, paths, tokenizer, vocab


def main() -> None:
    config = params.load().vocab
    reviews = pd.read_parquet(paths.REVIEWS, columns=["text", "split"])
    tokens = tokenizer.tokenize_series(reviews.loc[reviews["split"] == "train", "text"])
    built = vocab.build(tokens, config.min_freq, config.max_size)
    vocab.write(built, paths.VOCAB)
    atomic.write_json(paths.VOCAB_STATS, vocab.stats(built, tokens))


if __name__ == "__main__":
    cli.run(main)
