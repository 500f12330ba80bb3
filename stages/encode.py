"""Stage encode: tokens -> padded id matrices, true lengths and labels for train, val and test.

Reviews stream through in chunks and each split's matrix is appended to its file as it grows,
so memory stays flat however large the corpus.
"""

from contextlib import ExitStack

from rnn_sentiment.core import cli, files, params, paths
from rnn_sentiment.data import reviews
from rnn_sentiment.text import encoding, tokenizer, vocab


def main() -> None:
    config = params.load().encode
    index = vocab.read(paths.VOCAB)
    sizes = reviews.split_sizes(paths.REVIEWS)
    with files.atomic_dir(paths.ENCODED) as out, ExitStack() as stack:
        writers = {name: stack.enter_context(encoding.SplitWriter(out, name, sizes.get(name, 0), config.max_len))
                   for name in encoding.SPLITS}
        for chunk in reviews.chunks(paths.REVIEWS, ["text", "label", "split"]):
            for name, writer in writers.items():
                rows = chunk[chunk["split"] == name]
                if len(rows):
                    tokens = tokenizer.tokenize_series(rows["text"], config.max_len)
                    writer.append(tokens, encoding.encode(tokens, rows["label"].to_numpy(), index,
                                                          config.max_len, config.truncate))
        stats = {name: writer.close() for name, writer in writers.items()}
    files.write_json(paths.ENCODE_STATS, stats)


if __name__ == "__main__":
    cli.run(main)
