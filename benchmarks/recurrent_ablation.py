"""Recurrent-path variants side by side: one process, the same splits, one n-gram path fitted once,
each variant's recurrent path trained from the same initial weights and combined with it on
validation by the pipeline's combiner, as the train stage does after every epoch; each variant's
best epoch (validation ROC AUC) is scored once on test.

A variant is a name and ``section.key=value`` overrides of ``train.*`` and ``model.*``, or a
shorter ``encode.max_len`` (the encoded ids cut again, head_tail), as in ``--variant "batch 128:
train.batch_size=128 train.lr=0.003"``, plus one switch of this script, ``residual``: the recurrent path's loss is
taken on its logit plus the n-gram path's logit for each training review as a fixed offset, so it
learns the residual (what the n-gram path gets wrong). Those offsets are out-of-fold (the n-gram
path refitted on 4/5 of the training split, NB ratios included, with the prior and C chosen on
validation, scores the other fifth): in-sample, the n-gram path is near-certain on every training
review and would leave nothing to learn.

    python benchmarks/recurrent_ablation.py --set train.epochs=3 \
        --variant "as today:" "residual: residual" "batch 128: train.batch_size=128 train.lr=0.003"

Run after `dvc repro encode`; each variant takes its epochs' time (about 2 minutes an epoch on full
IMDB, 2-core CPU).
"""

import argparse
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from compare_models import accuracy, all_logits, fit_ngram_path
from param_overrides import load_with_overrides

from rnn_sentiment.core import cli, paths
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import EncodeParams
from rnn_sentiment.model import runtime
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.text import encoding, ngrams, vocab
from rnn_sentiment.text.encoding import EncodedSplit
from rnn_sentiment.text.vocab import PAD_ID
from rnn_sentiment.training import exact_fits, linear, loop

FOLDS = 5


def fold_ratios(split: EncodedSplit, features: int) -> np.ndarray:
    """NB log-count ratios from this split's bags alone: its per-class review counts of each
    n-gram, through the pipeline's own ``ngrams.log_count_ratios``."""
    labels = np.repeat(np.asarray(split.labels), np.diff(split.ngram_offsets))
    ids = np.asarray(split.ngram_ids)
    counts = pd.DataFrame(
        {
            "positive": np.bincount(ids[labels == 1], minlength=features),
            "negative": np.bincount(ids[labels == 0], minlength=features),
        }
    )
    return ngrams.log_count_ratios(counts)


def out_of_fold_logits(train: EncodedSplit, features: int, prior: float, C: float, seed: int):
    """The n-gram path's logit for every training review, from a fit on the other folds."""
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(train.lengths)) % FOLDS
    logits = np.empty(len(train.lengths))
    for fold in range(FOLDS):
        fitted_rows, held_rows = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        fitted, held = train.rows(fitted_rows), train.rows(held_rows)
        ratios = fold_ratios(fitted, features)
        fit = linear.fit(
            exact_fits.bag_matrix(fitted, ratios),
            np.asarray(fitted.labels),
            C,
            intercept=False,
            prior=prior,
        )
        logits[held_rows] = fit.logits(exact_fits.bag_matrix(held, ratios))
    return logits


class WithOffset(torch.nn.Module):
    """The recurrent path's logit plus a fixed offset per training review: the rows of the batch
    being trained are read from ``batcher.rows``, set as the batch is drawn."""

    def __init__(self, recurrent: torch.nn.Module, offsets: np.ndarray, batcher: "RowsBatcher"):
        super().__init__()
        self.recurrent = recurrent
        self.offsets = torch.from_numpy(offsets).float()
        self.batcher = batcher

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        offset = self.offsets[torch.from_numpy(self.batcher.rows)].to(ids.device)
        return self.recurrent(ids, lengths) + offset


class RowsBatcher(Batcher):
    """A Batcher that remembers the rows of the batch it last yielded."""

    rows = np.empty(0, dtype=np.int64)

    def batches(self, *args, **kwargs):
        for batch in super().batches(*args, **kwargs):
            self.rows = batch.rows
            yield batch


def retruncated(split: EncodedSplit, encode: EncodeParams) -> EncodedSplit:
    """The split as `encode` would have cut it, from ids encoded head_tail at a larger max_len:
    exact, since head_tail at any length keeps a prefix of the same head and tail."""
    ids = np.asarray(split.ids)
    if encode.max_len >= ids.shape[1]:
        return split
    if encode.truncate != "head_tail":
        raise PipelineError("a variant's encode.max_len needs encode.truncate: head_tail")
    lengths = np.asarray(split.lengths, dtype=np.int64)[:, None]
    column = np.arange(encode.max_len)[None, :]
    head = encode.max_len // 2
    source = np.where(
        (column < head) | (lengths <= encode.max_len), column, lengths - encode.max_len + column
    )
    kept = np.minimum(lengths, encode.max_len)
    cut = np.where(column < kept, np.take_along_axis(ids, source, axis=1), PAD_ID).astype(ids.dtype)
    return replace(split, ids=cut, lengths=kept[:, 0].astype(np.asarray(split.lengths).dtype))


def parse_variant(text: str) -> tuple[str, bool, list[str]]:
    """``"name: residual section.key=value ..."`` -> (name, residual, overrides)."""
    name, colon, rest = text.partition(":")
    if not colon or not name.strip():
        raise PipelineError(
            f"variant {text!r}: expected 'name: [residual] [section.key=value ...]'"
        )
    words = rest.split()
    return name.strip(), "residual" in words, [w for w in words if w != "residual"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--variant", nargs="+", default=["as today:"], metavar="'NAME: ...'")
    args = parser.parse_args()
    config = load_with_overrides(args.set)
    variants = [parse_variant(text) for text in args.variant]
    if not paths.ENCODED.exists():
        raise PipelineError(f"{paths.ENCODED}: missing; run `dvc repro encode` first")
    runtime.configure_threads(config.train.threads)
    device = runtime.choose_device(config.train.device)
    splits = {name: encoding.load(paths.ENCODED, name) for name in encoding.SPLITS}
    tokens, table = vocab.read(paths.VOCAB), ngrams.read(paths.NGRAMS)
    index = ngrams.NgramIndex(table["ngram"])
    labels = {name: np.asarray(splits[name].labels) for name in ("val", "test")}

    runtime.seed_everything(config.seed)
    base = SentimentClassifier(len(tokens), len(table), config.model)
    if base.ngrams is None:
        raise PipelineError("ngrams.max_features: 0 turns the n-gram path off; nothing to compare")
    started = time.perf_counter()
    prior, C = fit_ngram_path(base, table, splits, config)
    print(f"n-gram path: prior {prior:g}, C {C:g} ({time.perf_counter() - started:.0f} s)")
    offsets = None
    if any(residual for _, residual, _ in variants):
        started = time.perf_counter()
        offsets = out_of_fold_logits(splits["train"], len(table), prior, C, config.seed)
        print(
            f"out-of-fold n-gram logits: train accuracy "
            f"{accuracy(offsets, splits['train'].labels):.2%} ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )

    rows = []
    for name, residual, overrides in variants:
        variant = load_with_overrides(args.set + overrides)
        data = {
            split: retruncated(splits[split], variant.encode) for split in ("train", "val", "test")
        }
        runtime.seed_everything(config.seed)
        model = SentimentClassifier(len(tokens), len(table), variant.model)
        model.ngrams.load_state_dict(base.ngrams.state_dict())
        trainer = loop.Trainer(model, variant.train, config.seed, device)
        train = RowsBatcher(data["train"], device)
        if residual:
            trainer.network = WithOffset(model.recurrent, offsets, train)
        state = loop.TrainState(name, name)
        state.ngram_prior, state.ngram_c = prior, C
        state = trainer.fit(
            train,
            data["val"],
            state,
            on_epoch=lambda result, state, name=name: print(
                f"{name}: {loop.describe(result)}", flush=True
            ),
        )
        model.load_state_dict(state.best_state)
        predictor = Predictor(model, tokens, index, variant.encode, device=device)
        val, test = (all_logits(predictor, data[split]) for split in ("val", "test"))
        ngram_val, ngram_test = (
            accuracy(val[:, 1], labels["val"]),
            accuracy(test[:, 1], labels["test"]),
        )
        rows.append(
            (
                name,
                state.best_epoch,
                accuracy(val[:, 0], labels["val"]),
                accuracy(test[:, 0], labels["test"]),
                accuracy(val[:, -1], labels["val"]),
                accuracy(test[:, -1], labels["test"]),
                float(np.mean([e.seconds for e in state.history])),
                float(np.mean([e.tokens_per_second for e in state.history])),
            )
        )
    print(
        f"\n{' '.join(args.set) or 'params.yaml'}; n-gram path alone: val {ngram_val:.2%}, test {ngram_test:.2%}"
    )
    print(
        "| variant | best epoch | recurrent alone val / test | combined val / test | s/epoch | tokens/s |"
    )
    print("|---|---|---|---|---|---|")
    for name, epoch, rec_val, rec_test, comb_val, comb_test, secs, speed in rows:
        print(
            f"| {name} | {epoch} | {rec_val:.2%} / {rec_test:.2%} | {comb_val:.2%} / "
            f"{comb_test:.2%} | {secs:.0f} | {speed:,.0f} |"
        )


if __name__ == "__main__":
    cli.run(main)
