"""What fitting the n-gram path on a sample costs: fits on seeded samples of the training split
against the fit on all of it, on the same splits, in one command.

    python benchmarks/ngram_sample.py                    # after `dvc repro encode`; IMDB: ~2 minutes
    python benchmarks/ngram_sample.py --reviews 2500 5000 10000

A corpus larger than ``train.ngram_reviews`` reviews has its n-gram path fitted on a seeded sample
of that many (docs/scaling.md); the NB ratios still count every review. Each row here is the train
stage's own fit (prior and C chosen on validation ROC AUC) with ``train.ngram_reviews`` set to that
many reviews, and the last row uses every training review. Accuracy is the n-gram path's alone
(P(positive) >= 0.5, as the evaluate stage scores); the paired columns compare each row with the
fit on every review, on the same test reviews (95 % bootstrap interval of the difference,
McNemar's exact p).
"""

import argparse
import time

import numpy as np
from compare_models import fit_ngram_path
from param_overrides import load_with_overrides

from rnn_sentiment.core import cli, paths
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.evaluation import paired
from rnn_sentiment.evaluation.metrics import classification_metrics
from rnn_sentiment.model import runtime
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text import encoding, ngrams, vocab
from rnn_sentiment.training import loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", nargs="+", type=int, default=[2500, 5000, 10000])
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    args = parser.parse_args()
    config = load_with_overrides(args.set)
    missing = [str(p) for p in (paths.VOCAB, paths.NGRAMS, paths.ENCODED) if not p.exists()]
    if missing:
        raise PipelineError(f"{', '.join(missing)}: missing; run `dvc repro encode` first")
    runtime.configure_threads(config.train.threads)
    device = runtime.choose_device(config.train.device)
    splits = {name: encoding.load(paths.ENCODED, name) for name in encoding.SPLITS}
    tokens, table = vocab.read(paths.VOCAB), ngrams.read(paths.NGRAMS)
    training_reviews = len(splits["train"].lengths)
    sizes = sorted({min(size, training_reviews) for size in args.reviews} | {training_reviews})
    labels = np.asarray(splits["test"].labels)
    rows = []
    for size in sizes:
        runtime.seed_everything(config.seed)
        model = SentimentClassifier(len(tokens), len(table), config.model)
        if model.ngrams is None:
            raise PipelineError("ngrams.max_features is 0: the n-gram path is off")
        sized = config.train.model_copy(update={"ngram_reviews": size})
        started = time.perf_counter()
        prior, c = fit_ngram_path(model, table, splits, config.model_copy(update={"train": sized}))
        seconds = time.perf_counter() - started
        logits = {
            name: loop.ngram_logits(model.ngrams, splits[name], device) for name in ("val", "test")
        }
        val = classification_metrics(splits["val"].labels, 1 / (1 + np.exp(-logits["val"])))
        test = 1 / (1 + np.exp(-logits["test"]))
        rows.append((size, prior, c, val, classification_metrics(labels, test), test, seconds))
        print(f"{size} reviews: fitted in {seconds:.1f} s", flush=True)

    full = rows[-1][5]
    print(
        f"\nthe n-gram path alone, fitted on seeded samples (seed {config.seed}) of "
        f"{training_reviews:,} training reviews"
    )
    print(
        f"{'reviews':>8s} {'prior':>6s} {'C':>6s} {'val AUC':>8s} {'val acc':>8s} {'test acc':>8s}"
        f" {'vs all':>7s} {'95% interval':>17s} {'McNemar p':>9s} {'seconds':>7s}"
    )
    for size, prior, c, val, test, probabilities, seconds in rows:
        diff = paired.compare(labels, probabilities, full)
        interval = f"[{diff.accuracy_diff_ci_low:+.2%}, {diff.accuracy_diff_ci_high:+.2%}]"
        print(
            f"{size:8,d} {prior:6g} {c:6g} {val['roc_auc']:8.4f} {val['accuracy']:8.2%} {test['accuracy']:8.2%}"
            f" {diff.accuracy_diff:+7.2%} {interval:>17s} {diff.mcnemar_p:9.3f} {seconds:7.1f}"
        )


if __name__ == "__main__":
    cli.run(main)
