"""Prediction from raw text vs a bare forward pass of the same model, side by side.

The predict path (what ``rnn-sentiment-predict``, batch prediction over a file and the MLflow
pyfunc all run) tokenizes, encodes, batches and runs the network. The bare forward gets the same
reviews already encoded and batched in memory and only runs the network under inference mode.
The ratio is the share of the bare forward's reviews/s that raw-text prediction keeps.

    python benchmarks/predict_throughput.py --reviews 5000     # needs models/model.pt (dvc repro train)
"""

import argparse
import time

import pandas as pd
import torch

from rnn_sentiment.core import cli, params, paths
from rnn_sentiment.model import runtime
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.predictor import Predictor


def best_of(rounds: int, work) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=5000, help="test reviews to classify")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    config = params.load()
    runtime.configure_threads(config.train.threads)
    predictor = Predictor.load(paths.MODEL)
    texts = (
        pd.read_parquet(paths.REVIEWS, columns=["text", "split"])
        .query("split == 'test'")["text"]
        .sample(n=args.reviews, random_state=config.seed)
        .tolist()
    )
    batches = [
        batch.inputs
        for batch in Batcher(predictor.encode_texts(texts), with_ngrams=True).batches(
            predictor.batch_size
        )
    ]

    @torch.inference_mode()
    def bare_forward() -> None:
        for inputs in batches:
            torch.sigmoid(predictor.model(*inputs))

    predictor.predict_proba(texts[:256])  # warm-up
    bare = best_of(args.rounds, bare_forward)
    full = best_of(args.rounds, lambda: predictor.predict_proba(texts))
    print(f"{len(texts)} reviews, {torch.get_num_threads()} threads, batch {predictor.batch_size}")
    print(f"bare forward (pre-encoded): {len(texts) / bare:10,.0f} reviews/s")
    print(f"predict from raw text:      {len(texts) / full:10,.0f} reviews/s")
    print(f"ratio predict/bare:         {bare / full:.3f}")


if __name__ == "__main__":
    cli.run(main)
