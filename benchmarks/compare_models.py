"""The pipeline's model against a plain NBSVM-tri reference, on the same splits, in one command.

    python benchmarks/compare_models.py                 # after `dvc repro encode`; full IMDB: ~15 minutes
    python benchmarks/compare_models.py --set train.epochs=1

Rows, each with validation and test accuracy and the seconds it took:
- NBSVM-tri (scikit-learn): CountVectorizer(ngram_range=(1, 3), binary=True, max_features=800_000)
  over the project's tokens (so the rows differ in the model, not the tokenizer), NB log-count
  ratios (alpha 1), LogisticRegression(C=0.1, dual=True, solver="liblinear") on the scaled
  features: Wang & Manning's NBSVM as Mesnil et al. (2015) ran it.
- the n-gram path alone, the recurrent path alone, and the two combined (the model `dvc repro`
  trains), all from one run of the train stage's own code, without MLflow.
It also scores the short texts of behaviour/imdb.yaml after every epoch and at the end. No unlabelled
data and no pretrained embeddings anywhere. Test is scored once per row, at the end.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from param_overrides import load_with_overrides

from rnn_sentiment.core import cli, params, paths
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.evaluation import behaviour
from rnn_sentiment.evaluation.metrics import classification_metrics
from rnn_sentiment.model import runtime
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.text import encoding, ngrams, tokenizer, vocab
from rnn_sentiment.training import exact_fits, loop

BEHAVIOUR_CASES = Path("behaviour/imdb.yaml")


def short_texts() -> dict[str, int]:
    """The hand-written short texts (not IMDB), label 1 = positive: the behaviour cases' `short`
    capability, the one list the evaluate stage checks too."""
    cases = behaviour.load_cases(BEHAVIOUR_CASES)
    return {
        case.text: int(case.expected == "positive") for case in cases if case.capability == "short"
    }


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(logits) > 0) == (np.asarray(labels) == 1)))


def nbsvm_reference(reviews: pd.DataFrame, short_texts: dict[str, int]) -> dict:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    texts = {
        s: tokenizer.tokenize_series(reviews.loc[reviews["split"] == s, "text"]).tolist()
        for s in ("train", "val", "test")
    }
    labels = {
        s: reviews.loc[reviews["split"] == s, "label"].to_numpy() for s in ("train", "val", "test")
    }
    # documents arrive as token lists: sklearn only forms the n-grams
    vectorizer = CountVectorizer(
        ngram_range=(1, 3),
        binary=True,
        max_features=800_000,
        preprocessor=list,
        tokenizer=list,
        lowercase=False,
        token_pattern=None,
    )
    train = vectorizer.fit_transform(texts["train"])
    p = 1 + np.asarray(train[labels["train"] == 1].sum(axis=0)).ravel()
    q = 1 + np.asarray(train[labels["train"] == 0].sum(axis=0)).ravel()
    ratios = np.log((p / p.sum()) / (q / q.sum()))
    model = LogisticRegression(C=0.1, dual=True, solver="liblinear", max_iter=1000)
    model.fit(train.multiply(ratios).tocsr(), labels["train"])
    scores = {
        s: accuracy(
            model.decision_function(vectorizer.transform(texts[s]).multiply(ratios).tocsr()),
            labels[s],
        )
        for s in ("val", "test")
    }
    short_tokens = tokenizer.tokenize_series(pd.Series(list(short_texts))).tolist()
    short = model.decision_function(vectorizer.transform(short_tokens).multiply(ratios).tocsr())
    return {**scores, "seconds": time.perf_counter() - started, "short": short}


def fit_ngram_path(
    model: SentimentClassifier, table: pd.DataFrame, splits: dict, config: params.Params
) -> tuple[float, float]:
    """The n-gram path fitted as the train stage fits it; returns the (prior, C) kept."""
    kept, _ = exact_fits.fit_ngram_path(
        model,
        table,
        splits["train"],
        splits["val"],
        config.train.ngram_c,
        config.train.ngram_prior,
        config.train.ngram_reviews,
        config.seed,
    )
    return kept


def all_logits(predictor: Predictor, split: encoding.EncodedSplit) -> np.ndarray:
    """[reviews, paths + 1]: each path's logit and the combined one, in row order."""
    scores = predictor.score_paths(split)
    return np.column_stack([scores.path_logits, scores.logits])


def short_logits(predictor: Predictor, short_texts: dict[str, int]) -> np.ndarray:
    return all_logits(predictor, predictor.encode_texts(list(short_texts)))


def report_short(when: str, logits: np.ndarray, short_texts: dict[str, int]) -> None:
    right = (logits > 0) == (np.array(list(short_texts.values()))[:, None] == 1)
    names = (
        ["recurrent", "n-gram", "combined"] if logits.shape[1] == 3 else ["recurrent", "combined"]
    )
    counts = ", ".join(
        f"{name} {int(right[:, i].sum())}/{len(right)}" for i, name in enumerate(names)
    )
    hate = list(short_texts).index("I hate it")
    print(
        f"{when}: short texts right: {counts}; 'I hate it' P(positive) {1 / (1 + np.exp(-logits[hate, -1])):.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument(
        "--skip-reference", action="store_true", help="without the scikit-learn NBSVM row"
    )
    args = parser.parse_args()
    config = load_with_overrides(args.set)
    missing = [
        str(path)
        for path in (paths.REVIEWS, paths.VOCAB, paths.NGRAMS, paths.ENCODED)
        if not path.exists()
    ]
    if missing:
        raise PipelineError(f"{', '.join(missing)}: missing; run `dvc repro encode` first")
    short = short_texts()
    runtime.configure_threads(config.train.threads)
    device = runtime.choose_device(config.train.device)
    rows = []
    if not args.skip_reference:
        reference = nbsvm_reference(
            pd.read_parquet(paths.REVIEWS, columns=["text", "label", "split"]), short
        )
        rows.append(
            (
                "NBSVM-tri, scikit-learn (reference)",
                reference["val"],
                reference["test"],
                reference["seconds"],
            )
        )

    splits = {name: encoding.load(paths.ENCODED, name) for name in encoding.SPLITS}
    tokens, table = vocab.read(paths.VOCAB), ngrams.read(paths.NGRAMS)
    runtime.seed_everything(config.seed)
    model = SentimentClassifier(len(tokens), len(table), config.model)
    index = ngrams.NgramIndex(table["ngram"])
    predictor = Predictor(model, tokens, index, config.encode, device=device)
    trainer = loop.Trainer(model, config.train, config.seed, device)
    state = loop.TrainState("benchmark", "benchmark")
    started = time.perf_counter()
    if model.ngrams is not None:
        state.ngram_prior, state.ngram_c = fit_ngram_path(model, table, splits, config)
    ngram_seconds = time.perf_counter() - started

    # each epoch's weights, scored
    scored = Predictor(
        SentimentClassifier(len(tokens), len(table), config.model),
        tokens,
        index,
        config.encode,
        device=device,
    )

    def on_epoch(result: loop.EpochResult, state: loop.TrainState) -> None:
        print(loop.describe(result), flush=True)
        scored.model.load_state_dict(trainer.classifier_state())
        report_short(f"epoch {result.epoch}", short_logits(scored, short), short)

    started = time.perf_counter()
    trainer.fit(Batcher(splits["train"], device), splits["val"], state, on_epoch)
    recurrent_seconds = time.perf_counter() - started
    model.load_state_dict(state.best_state)
    logits = {name: all_logits(predictor, splits[name]) for name in ("val", "test")}
    labels = {name: np.asarray(splits[name].labels) for name in ("val", "test")}
    columns = ["recurrent path alone", "n-gram path alone", "combined (the pipeline's model)"]
    if model.ngrams is None:
        columns = [columns[0], columns[2]]
    seconds = {
        "recurrent path alone": recurrent_seconds,
        "n-gram path alone": ngram_seconds,
        "combined (the pipeline's model)": recurrent_seconds + ngram_seconds,
    }
    for i, column in enumerate(columns):
        rows.append(
            (
                column,
                accuracy(logits["val"][:, i], labels["val"]),
                accuracy(logits["test"][:, i], labels["test"]),
                seconds[column],
            )
        )
    report_short("best epoch", short_logits(predictor, short), short)
    if not args.skip_reference:
        right = int(np.sum((reference["short"] > 0) == (np.array(list(short.values())) == 1)))
        print(f"NBSVM-tri reference: short texts right {right}/{len(short)}", flush=True)
    combined = classification_metrics(labels["test"], 1 / (1 + np.exp(-logits["test"][:, -1])))
    print(
        f"\nbest epoch {state.best_epoch} of {len(state.history)}, n-gram prior {state.ngram_prior:g} "
        f"C {state.ngram_c:g}, combined test ROC AUC {combined['roc_auc']:.4f} ({', '.join(args.set) or 'params.yaml'})"
    )
    print(f"{'model':40s} {'val acc':>8s} {'test acc':>8s} {'seconds':>8s}")
    for name, val, test, secs in rows:
        print(f"{name:40s} {val:8.2%} {test:8.2%} {secs:8.0f}")


if __name__ == "__main__":
    cli.run(main)
