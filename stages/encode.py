"""Stage encode: for train, val and test, the recurrent path's padded id matrices with true
lengths, the n-gram path's bags (each review's n-gram ids), and the labels.

Reviews stream through in chunks and each split's arrays are appended to their files as they
grow, so memory stays flat however large the corpus.
"""

from contextlib import ExitStack

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.data import reviews
from rnn_sentiment.text import encoding, ngrams, tokenizer, vocab


def main() -> None:
    config = params.load().encode
    index = vocab.read(paths.VOCAB)
    bags = ngrams.NgramIndex(ngrams.read(paths.NGRAMS)["ngram"])
    sizes = reviews.split_sizes(paths.REVIEWS)
    with files.atomic_dir(paths.ENCODED) as out, ExitStack() as stack:
        writers = {
            name: stack.enter_context(
                encoding.SplitWriter(out, name, sizes.get(name, 0), config.max_len)
            )
            for name in encoding.SPLITS
        }
        for chunk in reviews.chunks(paths.REVIEWS, ["text", "label", "split"]):
            for name, writer in writers.items():
                rows = chunk[chunk["split"] == name]
                if len(rows):
                    tokens = tokenizer.tokenize_series(rows["text"], config.max_len)
                    writer.append(
                        tokens,
                        encoding.encode(
                            tokens,
                            rows["label"].to_numpy(),
                            index,
                            config.max_len,
                            config.truncate,
                            bags,
                        ),
                    )
        stats = {name: writer.close() for name, writer in writers.items()}
    files.write_json(paths.ENCODE_STATS, stats)


if __name__ == "__main__":
    cli.run(main)
