"""Stage fetch: make sure data.source exists, downloading the official IMDB tarball if it is missing."""

from rnn_sentiment import cli, fetch, params


def main() -> None:
    data = params.load().data
    fetch.ensure_source(data.source, data.url, data.sha256)


if __name__ == "__main__":
    cli.run(main)
