"""Train one configuration with the stage's Trainer, without MLflow, and report val/test accuracy.

For fast exploration of presets on a GPU (or CPU) machine; the numbers that count come from
`dvc repro` / `dvc exp run`. Model selection is on validation; test is scored once, at the end.

    python benchmarks/accuracy_probe.py --set model.hidden_dim=64 train.epochs=6
"""

import argparse
import time

import numpy as np
import torch

from rnn_sentiment.core import cli, params, paths
from rnn_sentiment.text import encoding, vocab
from rnn_sentiment.evaluation import metrics
from rnn_sentiment.model import runtime
from rnn_sentiment.model.batching import Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.training import loop

# Hand-written short texts (not IMDB), label 1 = positive: the seed notebook's examples and their
# kind. Full reviews say little about how a model treats three words; these show it.
SHORT_TEXTS = {
    "This is great!": 1, "I hate it": 0, "I love it": 1, "I hated it": 0, "This is terrible": 0,
    "I loved it": 1, "Awful movie": 0, "Great film": 1, "Worst movie ever": 0, "Best movie ever": 1,
    "Boring": 0, "Brilliant": 1, "A waste of time": 0, "A masterpiece": 1, "Terrible acting": 0,
    "Wonderful performances": 1, "I did not like it": 0, "I enjoyed it": 1, "Do not watch this": 0,
    "You must see this": 1,
}


def report_short_texts(when: str, model: torch.nn.Module, tokens, config: params.Params) -> float:
    """Print each short text's probability and return the share classified right."""
    probabilities = Predictor(model, tokens, config.encode).predict_proba(list(SHORT_TEXTS))
    right = float(np.mean((probabilities >= 0.5) == np.array(list(SHORT_TEXTS.values()))))
    print(f"{when}: short texts {right:.0%} | "
          + " | ".join(f"{text} {p:.3f}" for text, p in zip(SHORT_TEXTS, probabilities)), flush=True)
    return right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    config = params.load_with_overrides(args.set)
    device = runtime.choose_device(args.device)
    train, val = (Batcher(encoding.load(paths.ENCODED, name), device) for name in ("train", "val"))
    runtime.configure_threads(config.train.threads)
    runtime.seed_everything(config.seed)
    tokens = vocab.read(paths.VOCAB)
    model = SentimentClassifier(len(tokens), config.model)
    trainer = loop.Trainer(model, config.train, config.seed, device)
    started = time.perf_counter()
    state = trainer.fit(train, val, loop.TrainState("probe", "probe"),
                        on_epoch=lambda result, state: report_short_texts(f"epoch {result.epoch}", trainer.scored,
                                                                          tokens, config))
    seconds = time.perf_counter() - started
    model.load_state_dict(state.best_state)
    test = encoding.load(paths.ENCODED, "test")
    probabilities = Predictor(model, tokens, config.encode).predict_encoded(test, device)
    score = metrics.classification_metrics(np.asarray(test.labels), probabilities)
    short_right = report_short_texts("best", model, tokens, config)
    print(f"RESULT {' '.join(args.set) or 'params.yaml'} | best epoch {state.best_epoch} "
          f"val {state.best_val_accuracy:.4f} | test {score['accuracy']:.4f} | {seconds:.0f}s "
          f"| short texts {short_right:.0%} | {np.mean([h.tokens_per_second for h in state.history]):,.0f} tokens/s on {device}", flush=True)


if __name__ == "__main__":
    cli.run(main)
