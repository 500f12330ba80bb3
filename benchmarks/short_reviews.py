"""A data set of one-sentence reviews, to check the default params on short texts too.

Takes the last sentence of every IMDB review (where reviewers tend to give their verdict), with
the review's label and train/test split, and writes them as a CSV:

    python benchmarks/short_reviews.py data/own/last_sentences.csv     # after `dvc repro ingest` on IMDB
    dvc exp run -n short -S data.source=data/own/last_sentences.csv
    python benchmarks/compare_models.py                                 # the NBSVM reference on the same rows

Labels come from whole reviews, so some sentences are neutral or say the opposite: no model gets
near full-review accuracy here; the point is the pipeline against the reference on the same rows.
"""

import argparse
from pathlib import Path

import pandas as pd

from rnn_sentiment.core import cli, paths

SENTENCE_END = r"(?<=[.!?])\s+"
MIN_CHARACTERS = 20


def last_sentences(reviews: pd.DataFrame) -> pd.DataFrame:
    text = reviews["text"].str.replace(r"<br\s*/?>", " ", regex=True).str.strip()
    last = text.str.split(SENTENCE_END, regex=True).str[-1].str.strip()
    table = pd.DataFrame(
        {
            "text": last,
            "label": reviews["label"],
            "split": reviews["split"].replace({"val": "train"}),
        }
    )
    return table[table["text"].str.len() >= MIN_CHARACTERS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    table = last_sentences(pd.read_parquet(paths.REVIEWS, columns=["text", "label", "split"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    words = table["text"].str.split().str.len()
    print(
        f"{len(table)} sentences ({(table['split'] == 'train').sum()} train), median {words.median():.0f} words, "
        f"written to {args.out}"
    )


if __name__ == "__main__":
    cli.run(main)
