"""Peak memory and wall time of the real stages on IMDB's training split at 1x, 10x and 100x its size.

The larger corpora are built from IMDB itself: each synthetic training review takes the label and
sentence count of a random real one and is filled with sentences drawn from all training
reviews of that label. The test split is IMDB's own 25k (the same at every scale). Each corpus
is written as one Parquet table (text, label, split) and goes through the real stages, each in
its own process in its own work directory: ingest, prepare_vocab, encode and train, with the
default params (the n-gram path on) but for ``train.epoch_batches``: every epoch stops after the
same number of batches at every scale, so the benchmark ends (validation still reads the whole
validation split, 10% of train). Peak resident memory is each process's own (``wait4``), so
stages do not blur together; it counts the pages of memory-mapped arrays a stage has read, which
the kernel can drop and re-read, so the anonymous peak (sampled every 0.1 s) is printed beside it.

    python benchmarks/scale_memory.py --scales 1 10 100    # from the repo root, tarball in data/raw/

The targets (issue #23): from 1x to 100x, every stage's peak RSS at most 3x and 8 GB, its time
per review at most 1.5x. ``--set`` overrides params for every scale, after ``train.epoch_batches``.

    python benchmarks/scale_memory.py --ingest-rows 200000 2000000

runs ingest alone on that many short synthetic reviews (half train, half test) and reports how
its peak memory grows per review: what the corpus costs beyond the streamed chunks (data/reviews.py).
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from param_overrides import apply_overrides

from rnn_sentiment.core import cli, params
from rnn_sentiment.data import sources

REPO = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "prepare_vocab", "encode", "train")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
ROW_GROUP = 5000
DEFAULT_SET = ["train.epoch_batches=40"]  # a quarter of IMDB's epoch, at every scale
POLL_SECONDS = 0.1


def sentences_by_label(train: pd.DataFrame) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per label, every training sentence; and each review's sentence count."""
    pieces = (
        train["text"].str.replace("<br />", " ", regex=False).str.strip().str.split(SENTENCE_END)
    )
    pools = {}
    for label in (0, 1):
        sentences = pieces[train["label"] == label].explode().str.strip()
        pools[label] = sentences[sentences != ""].to_numpy(dtype=object)
    return pools, pieces.str.len().to_numpy()


def write_corpus(imdb: pd.DataFrame, scale: int, path: Path, seed: int) -> int:
    """``scale`` x IMDB's training reviews, recombined, plus IMDB's test split; returns bytes of text."""
    rng = np.random.default_rng([seed, scale])
    train = imdb[imdb["split"] == "train"].reset_index(drop=True)
    test = imdb[imdb["split"] == "test"]
    pools, counts = sentences_by_label(train)
    labels = train["label"].to_numpy()
    schema = pa.schema([("text", pa.large_string()), ("label", pa.int8()), ("split", pa.string())])
    text_bytes = 0
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, scale * len(train), ROW_GROUP):
            models = rng.integers(0, len(train), min(ROW_GROUP, scale * len(train) - start))
            texts = []
            for model in models:
                pool = pools[labels[model]]
                texts.append(" ".join(pool[rng.integers(0, len(pool), counts[model])]))
            text_bytes += sum(map(len, texts))
            writer.write_table(
                pa.table(
                    {
                        "text": texts,
                        "label": labels[models].astype(np.int8),
                        "split": ["train"] * len(texts),
                    },
                    schema=schema,
                )
            )
        for start in range(0, len(test), ROW_GROUP):
            part = test.iloc[start : start + ROW_GROUP]
            writer.write_table(
                pa.table(
                    {
                        "text": part["text"].tolist(),
                        "label": part["label"].to_numpy(np.int8),
                        "split": ["test"] * len(part),
                    },
                    schema=schema,
                )
            )
    return text_bytes


def anonymous_mib(pid: int) -> float:
    """The process's anonymous resident memory now (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^RssAnon:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def run_stage(stage: str, workdir: Path) -> tuple[float, float, float]:
    """Run one stage script as the pipeline does; returns (seconds, peak RSS, sampled peak of
    anonymous RSS), both in MiB."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    with open(workdir / f"{stage}.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "stages" / f"{stage}.py")],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        anonymous = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            anonymous = max(anonymous, anonymous_mib(process.pid))
            time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(
            f"{stage} failed in {workdir}: {(workdir / f'{stage}.log').read_text().strip().splitlines()[-1]}"
        )
    return seconds, usage.ru_maxrss / 1024, anonymous  # ru_maxrss is KiB on Linux


def prepare_workdir(workdir: Path, corpus: Path, overrides: list[str]) -> None:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["data"].update(
        source=str(corpus), text_column="text", label_column="label", split_column="split"
    )
    params.parse(apply_overrides(raw, overrides))  # refuse a bad override here, not three stages in
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO / "data/raw/aclImdb_v1.tar.gz")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rnn-sentiment-scale"))
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help=f"params overrides, after the defaults {' '.join(DEFAULT_SET)}",
    )
    parser.add_argument(
        "--ingest-rows",
        type=int,
        nargs="+",
        metavar="N",
        help="run ingest alone on N synthetic reviews for each N, instead of the scales",
    )
    args = parser.parse_args()
    if args.ingest_rows:
        ingest_per_row(args.ingest_rows, args.workdir)
        return
    config = params.load(REPO / "params.yaml")
    imdb = pd.concat(sources.iter_source(args.source, config.data), ignore_index=True)
    results, train_reviews = {}, int((imdb["split"] == "train").sum())
    for scale in args.scales:
        workdir = args.workdir / f"{scale}x"
        corpus = args.workdir / f"corpus_{scale}x.parquet"
        args.workdir.mkdir(parents=True, exist_ok=True)
        text_bytes = write_corpus(imdb, scale, corpus, config.seed)
        prepare_workdir(workdir, corpus, DEFAULT_SET + args.set)
        results[scale] = {"text_mib": text_bytes / 2**20, "reviews": scale * train_reviews}
        for stage in STAGES:
            results[scale][stage] = run_stage(stage, workdir)
            seconds, peak, anonymous = results[scale][stage]
            print(
                f"{scale}x {stage}: {seconds:.1f} s, peak {peak:.0f} MiB ({anonymous:.0f} anonymous)",
                flush=True,
            )
        train = yaml.safe_load((workdir / "reports/train.json").read_text())
        results[scale]["epoch"] = (train["train_seconds"], train["tokens_per_second"])
    report(results, args.scales)


def write_synthetic(rows: int, path: Path) -> None:
    """``rows`` short distinct reviews, labels alternating, the first half train and the rest test."""
    schema = pa.schema([("text", pa.large_string()), ("label", pa.int8()), ("split", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, 100_000):
            ids = np.arange(start, min(start + 100_000, rows))
            writer.write_table(
                pa.table(
                    {
                        "text": [
                            f"review {i} was {'good' if i % 2 else 'bad'} overall" for i in ids
                        ],
                        "label": (ids % 2).astype(np.int8),
                        "split": np.where(ids < rows // 2, "train", "test"),
                    },
                    schema=schema,
                )
            )


def ingest_per_row(counts: list[int], root: Path) -> None:
    """Ingest's peak RSS at each row count, and the growth per row between the smallest and largest."""
    peaks = {}
    for rows in sorted(counts):
        corpus, workdir = root / f"synthetic_{rows}.parquet", root / f"ingest_{rows}"
        root.mkdir(parents=True, exist_ok=True)
        write_synthetic(rows, corpus)
        prepare_workdir(workdir, corpus, [])
        seconds, peaks[rows], _ = run_stage("ingest", workdir)
        print(f"ingest, {rows:,} rows: {seconds:.1f} s, peak {peaks[rows]:.0f} MiB", flush=True)
    low, high = min(peaks), max(peaks)
    if high > low:
        per_row = (peaks[high] - peaks[low]) * 2**20 / (high - low)
        print(f"peak growth per row, {low:,} -> {high:,}: {per_row:.0f} bytes")


def report(results: dict, scales: list[int]) -> None:
    print(
        "\n| scale | train text | stage | wall time | peak RSS | anonymous |\n|---|---|---|---|---|---|"
    )
    for scale in scales:
        for stage in STAGES:
            seconds, peak, anonymous = results[scale][stage]
            print(
                f"| {scale}x | {results[scale]['text_mib']:,.0f} MiB | {stage} | {seconds:,.1f} s "
                f"| {peak:,.0f} MiB | {anonymous:,.0f} MiB |"
            )
        epoch_seconds, tokens_per_second = results[scale]["epoch"]
        print(
            f"| {scale}x | | (train: its epochs alone) | {epoch_seconds:,.1f} s | "
            f"{tokens_per_second:,.0f} tokens/s | |"
        )
    low = min(scales)
    for high in sorted(scales):
        if high == low:
            continue
        reviews = results[high]["reviews"] / results[low]["reviews"]
        text = results[high]["text_mib"] / results[low]["text_mib"]
        print(f"\n{high}x / {low}x: training reviews {reviews:.0f}x, their text {text:.1f}x")
        for stage in STAGES:
            (low_s, low_peak, low_anon), (high_s, high_peak, high_anon) = (
                results[low][stage],
                results[high][stage],
            )
            print(
                f"  {stage}: peak RSS {high_peak / low_peak:.2f}x (anonymous "
                f"{high_anon / low_anon:.2f}x), wall time {high_s / low_s:.1f}x, "
                f"time per training review {high_s / low_s / reviews:.2f}x"
            )


if __name__ == "__main__":
    cli.run(main)
