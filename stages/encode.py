"""Stage encode: tokens -> padded id matrices, true lengths and labels for train, val and test.

Reviews stream through in chunks and each split's matrix is appended to its file as it grows,
so memory stays flat however large the corpus.
"""

from contextlib import ExitStack

from rnn_sentiment import atomic, cli, encoding, params, paths, reviews, tokenizer, vocab


def main() -> None:
    config = params.load().encode
    index = vocab.read(paths.VOCAB)
    sizes = reviews.split_sizes(paths.REVIEWS)
    with atomic.atomic_dir(paths.ENCODED) as out, ExitStack() as files:
        writers = {name: files.enter_context(encoding.SplitWriter(out, name, sizes.get(name, 0), config.max_len))
                   for name in encoding.SPLITS}
        for chunk in reviews.chunks(paths.REVIEWS, ["text", "label", "split"]):
            for name, writer in writers.items():
                rows = chunk[chunk["split"] == name]
                if len(rows):
                    tokens = tokenizer.tokenize_series(rows["text"], config.max_len)
                    writer.append(tokens, encoding.encode(tokens, rows["label"].to_numpy(), index,
                                                          config.max_len, config.truncate))
        stats = {name: writer.close() for name, writer in writers.items()}
    atomic.write_json(paths.ENCODE_STATS, stats)


if __name__ == "__main__":
    cli.run(main)
