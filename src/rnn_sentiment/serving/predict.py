"""Command line prediction: ``rnn-sentiment-predict "This is great!" "I hate it"``.

Texts come from arguments, from ``--file`` (one review per line) or from stdin. The model is
``models/model.pt`` by default, or any MLflow model URI such as ``models:/imdb-rnn@champion``; for
``models:/NAME@ALIAS``, stderr says which version that is and why it holds the alias.
"""

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from rnn_sentiment.core import cli, paths
from rnn_sentiment.core.errors import PipelineError, first_line
from rnn_sentiment.model import runtime
from rnn_sentiment.model.predictor import (
    EMPTY_LABEL,
    EMPTY_PROBABILITY,
    Predictor,
    blank,
    label_frame,
)

MLFLOW_SCHEMES = ("models:/", "runs:/", "file:", "mlflow-artifacts:", "s3:", "gs:")


def _read_lines(handle) -> list[str]:
    """Every line is a review, a blank one too (answered as empty), so output line N is input line N."""
    return [line.rstrip("\n") for line in handle]


def read_texts(args: argparse.Namespace) -> list[str]:
    if args.texts:
        return list(args.texts)
    if args.file:
        try:
            with open(args.file, encoding="utf-8") as handle:
                return _read_lines(handle)
        except FileNotFoundError:
            raise PipelineError(f"{args.file}: file not found") from None
        except UnicodeDecodeError as error:
            raise PipelineError(
                f"{args.file}: not UTF-8 (bad byte at offset {error.start})"
            ) from None
    raw = sys.stdin.buffer.read()
    try:
        return _read_lines(io.StringIO(raw.decode("utf-8")))
    except UnicodeDecodeError as error:
        raise PipelineError(f"stdin: not UTF-8 (bad byte at offset {error.start})") from None


def _registry_error(uri: str, error: Exception) -> PipelineError:
    """Name what does exist, so a typo in a model name or alias is one look away from fixed."""
    from mlflow import MlflowClient

    try:
        client = MlflowClient()
        known = [
            f"{m.name} (aliases: {', '.join(sorted(m.aliases)) or 'none'})"
            for m in client.search_registered_models()
        ]
    except Exception:
        known = []
    listing = "; ".join(known) if known else "no registered models"
    return PipelineError(f"{uri}: cannot load ({first_line(error, 200)}); registered: {listing}")


def load_model(uri: str) -> Callable[[list[str]], np.ndarray]:
    """A function from texts to positive-class probabilities."""
    if not uri.startswith(MLFLOW_SCHEMES):
        predictor = Predictor.load(Path(uri))
        return predictor.predict_proba
    import mlflow

    from rnn_sentiment.tracking import registry, store

    store.client_defaults()
    mlflow.set_tracking_uri(store.tracking_uri())
    try:
        model = mlflow.pyfunc.load_model(uri)
    except Exception as error:
        raise _registry_error(uri, error) from None
    decision = registry.alias_decision(uri)
    if decision:
        print(decision, file=sys.stderr)
    return lambda texts: model.predict(pd.DataFrame({"text": texts}))["probability"].to_numpy()


def threads_count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value!r}")
    return int(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="rnn-sentiment-predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "texts", nargs="*", help="reviews to classify (default: read --file or stdin)"
    )
    parser.add_argument("--file", help="a UTF-8 file with one review per line")
    parser.add_argument(
        "--model",
        default=str(paths.MODEL),
        help="models/model.pt (default) or an MLflow URI, e.g. models:/imdb-rnn@champion",
    )
    parser.add_argument("--format", choices=("tsv", "jsonl"), default="tsv")
    parser.add_argument(
        "--threads", type=threads_count, default=0, help="torch threads (default 0: one per core)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runtime.configure_threads(args.threads)
    texts = read_texts(args)
    predict = load_model(args.model)
    started = time.perf_counter()
    probabilities = predict(texts)
    seconds = time.perf_counter() - started
    frame = label_frame(texts, np.asarray(probabilities, dtype=float))
    out = sys.stdout
    for text, row in zip(texts, frame.itertuples(index=False), strict=True):
        if args.format == "jsonl":
            out.write(
                json.dumps(
                    {"label": row.label, "probability": round(row.probability, 6), "text": text}
                )
                + "\n"
            )
        else:
            preview = " ".join(text.split())[:80]
            out.write(f"{row.label}\t{row.probability:.4f}\t{preview}\n")
    rate = len(texts) / seconds if seconds > 0 else float("inf")
    blanks = int(blank(texts).sum())
    note = (
        f"; {blanks} empty or whitespace only: {EMPTY_LABEL} {EMPTY_PROBABILITY}" if blanks else ""
    )
    print(f"{len(texts)} reviews in {seconds:.3f}s ({rate:,.0f} reviews/s){note}", file=sys.stderr)


def cli_main() -> None:
    cli.run(main)


if __name__ == "__main__":
    cli_main()
