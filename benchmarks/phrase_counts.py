"""How many training reviews of each class contain a word or phrase, after the pipeline's tokenizer.

A quick look at the evidence IMDB holds for a short text: "hate" alone is weak, "i hate" is not.

    python benchmarks/phrase_counts.py hate "i hate" "i hate it"     # needs dvc repro ingest
"""

import argparse

import pandas as pd

from rnn_sentiment.core import cli, paths
from rnn_sentiment.text.tokenizer import tokenize_series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phrases", nargs="+")
    args = parser.parse_args()
    reviews = pd.read_parquet(paths.REVIEWS, columns=["text", "label", "split"])
    train = reviews[reviews["split"] == "train"]
    # Space-joined tokens with spaces around, so a phrase matches whole tokens only.
    joined = " " + tokenize_series(train["text"]).str.join(" ") + " "
    print(f"{len(train):,} training reviews ({int(train['label'].sum()):,} positive)")
    for phrase in args.phrases:
        phrase_tokens = tokenize_series(pd.Series([phrase], dtype="str")).iloc[0]
        found = joined.str.contains(" " + " ".join(phrase_tokens) + " ", regex=False)
        positive, negative = (
            int(train["label"][found].sum()),
            int((1 - train["label"][found]).sum()),
        )
        share = positive / max(positive + negative, 1)
        print(
            f"{phrase!r}: {negative:,} negative, {positive:,} positive reviews ({share:.0%} positive)"
        )


if __name__ == "__main__":
    cli.run(main)
