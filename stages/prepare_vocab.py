"""Stage prepare_vocab: count the training split's tokens, chunk by chunk, and keep the vocabulary."""

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.data import reviews
from rnn_sentiment.text import tokenizer, vocab


def main() -> None:
    config = params.load().vocab
    counts = vocab.count(tokenizer.tokenize_series(chunk.loc[chunk["split"] == "train", "text"])
                         for chunk in reviews.chunks(paths.REVIEWS, ["text", "split"]))
    built = vocab.build(counts, config.min_freq, config.max_size)
    vocab.write(built, paths.VOCAB)
    files.write_json(paths.VOCAB_STATS, vocab.stats(built, counts))


if __name__ == "__main__":
    cli.run(main)
