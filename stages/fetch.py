"""Stage fetch: download the official IMDB tarball into data/raw/imdb/ when data.source names it."""

from rnn_sentiment.core import cli, params
from rnn_sentiment.data import fetch


def main() -> None:
    fetch.fetch(params.load().data)


if __name__ == "__main__":
    cli.run(main)
