"""Training the classifier: the n-gram path fitted once, then the epoch loop of the recurrent path
(bucketed batches, gradient clipping, weight averaging, early stopping), the two combined after
every epoch by a logistic regression on validation, the best epoch kept by validation ROC AUC.

Every epoch reseeds from (seed, epoch), so a run resumed from the checkpoint of epoch k follows
exactly the path of an uninterrupted run: same batches, same dropout masks, same metrics.
"""

import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import TrainParams
from rnn_sentiment.evaluation.metrics import classification_metrics
from rnn_sentiment.model import torch_files
from rnn_sentiment.model.batching import Batcher, crop_windows
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text.encoding import EncodedSplit
from rnn_sentiment.text.ngrams import log_count_ratios
from rnn_sentiment.training import linear
from rnn_sentiment.training.distributed import World, all_sum

CHECK_EVERY = 50  # batches between loss checks: each check waits for the GPU once
COMBINER_C = 100.0  # the combiner's three weights barely need regularising; this keeps them finite
NORM_FLOOR = 1e-12
# At or below this best validation ROC AUC the model is guessing: chance is 0.5, and a model that learned
# nothing stays within about 0.035 of it on IMDB's 2,500 validation reviews (3 standard deviations).
CHANCE_ROC_AUC = 0.55


@dataclass
class EpochResult:
    epoch: int
    train_loss: float  # the recurrent path's, on the (augmented) training batches
    train_accuracy: float
    val_loss: float  # the combined model's, from here on
    val_accuracy: float
    val_roc_auc: float
    val_recurrent_accuracy: float  # the recurrent path alone
    seconds: float
    tokens_per_second: float


@dataclass
class TrainState:
    """Everything needed to continue after a kill: saved when training starts and after every epoch."""
    fingerprint: str
    run_id: str
    history: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    best_val_roc_auc: float = -1.0
    best_state: dict | None = None  # the whole classifier at the best epoch
    ngram_c: float = 0.0  # C the n-gram path was fitted with (0: no n-gram path)
    ngram_prior: float = 0.0  # and the prior its weights were pulled toward


def ema_with_warmup(decay: float) -> Callable:
    """Exponential moving average whose decay grows as min(decay, (1 + t) / (10 + t)) over the
    first steps t: a short run's average follows its weights instead of staying near the
    random initial ones."""
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], steps: torch.Tensor) -> None:
        rate = torch.clamp((1 + steps) / (10 + steps), max=decay)  # on the device: no host sync
        torch._foreach_lerp_(averaged, current, (1 - rate).to(averaged[0].dtype))
    return update


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda")


def bag_matrix(split: EncodedSplit, ratios: np.ndarray) -> torch.Tensor:
    """A split's n-gram bags as a sparse CSR matrix [reviews, features]: each present n-gram holds
    its ratio, and each row has unit L2 norm (what NgramPath computes)."""
    columns = np.array(split.ngram_ids, dtype=np.int64)
    offsets = np.array(split.ngram_offsets, dtype=np.int64)
    values = ratios[columns]
    norms = np.sqrt(np.add.reduceat(values ** 2, offsets[:-1]) if len(values) else np.zeros(len(offsets) - 1))
    norms[np.diff(offsets) == 0] = 1.0  # an empty bag (reduceat's value there is meaningless)
    values = values / np.repeat(np.maximum(norms, NORM_FLOOR), np.diff(offsets))
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    return torch.sparse_csr_tensor(torch.from_numpy(offsets), torch.from_numpy(columns),
                                   torch.from_numpy(values.astype(np.float32)),
                                   size=(len(split.lengths), len(ratios)), check_invariants=False)


def fit_ngram_path(model: SentimentClassifier, table: pd.DataFrame, train: EncodedSplit, val: EncodedSplit,
                   grid: list[float], priors: list[float]) -> tuple[tuple[float, float], dict[tuple[float, float], float]]:
    """Logistic regression, without a bias, on the training bags scaled by NB ratios and
    normalised per review, its penalty pulling each weight toward a prior (0: plain ridge; 1: the
    weights of naive Bayes itself, which NBSVM interpolates toward); prior and C chosen on
    validation ROC AUC. Stored in ``model.ngrams``. Returns the (prior, C) kept and each pair's
    validation AUC."""
    ratios = log_count_ratios(table)
    fitted, scores = linear.fit_on_grid(bag_matrix(train, ratios), np.asarray(train.labels),
                                        bag_matrix(val, ratios), np.asarray(val.labels), grid, priors,
                                        intercept=False)
    model.ngrams.set(torch.from_numpy(ratios), fitted.weight)
    return (fitted.prior, fitted.C), scores


@torch.inference_mode()
def path_logits(model: nn.Module, data: Batcher, batch_size: int, device: torch.device, amp: bool) -> np.ndarray:
    """``model``'s logit for every row of ``data``, in row order."""
    model.eval()
    logits = torch.empty(len(data), dtype=torch.float32, device=device)
    for batch in data.batches(batch_size):
        with _autocast(device, amp):
            logits[torch.from_numpy(batch.rows).to(device)] = model(batch.ids, batch.lengths).float()
    return logits.double().cpu().numpy()


def fit_combiner(model: SentimentClassifier, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fit ``model.combine`` on the paths' validation logits [reviews, paths]; return its logits.

    A path's weight is never negative: on a small validation split a path that has learned little
    (one epoch on a few thousand reviews) can get a large negative weight that only fits noise.
    Such a path is left out (weight 0) and the others refitted."""
    kept = list(range(logits.shape[1]))
    while True:
        fitted = linear.fit(torch.from_numpy(logits[:, kept]), labels, COMBINER_C)
        if (fitted.weight >= 0).all() or len(kept) == 1:
            break
        kept.pop(int(fitted.weight.argmin()))
    weights = np.zeros(logits.shape[1])
    weights[kept] = fitted.weight.numpy()
    with torch.no_grad():
        model.combine.weight.copy_(torch.from_numpy(weights).float().unsqueeze(0))
        model.combine.bias.fill_(fitted.bias)
    return logits @ weights + fitted.bias


class Trainer:
    """Trains ``model.recurrent``; the same code runs on every data-parallel rank. ``model.ngrams``
    must be fitted first (``fit_ngram_path``); validation scores the combined model."""

    def __init__(self, model: SentimentClassifier, config: TrainParams, seed: int, device: torch.device,
                 world: World = World()):
        self.model = model.to(device)
        self.config = config
        self.seed = seed
        self.device = device
        self.world = world
        recurrent = model.recurrent
        # DDP averages gradients across ranks in backward(); self.model stays the bare network.
        self.network = (nn.parallel.DistributedDataParallel(recurrent, device_ids=[device] if device.type == "cuda" else None)
                        if world.distributed else recurrent)
        self.optimizer = torch.optim.Adam(recurrent.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        # An exponential moving average of the weights (Polyak averaging) smooths out the late,
        # noisy Adam steps; when on, it is what validation scores and what the best epoch keeps.
        self.averaged = (AveragedModel(recurrent, multi_avg_fn=ema_with_warmup(config.ema_decay))
                         if config.ema_decay > 0 else None)
        self._ngram_logits: np.ndarray | None = None

    @property
    def scored(self) -> nn.Module:
        """The recurrent weights that validation scores and the best checkpoint keeps."""
        return self.averaged.module if self.averaged else self.model.recurrent

    def resume(self, checkpoint: Path, fingerprint: str) -> TrainState | None:
        """The saved state if it belongs to these exact params and data, else None."""
        if not checkpoint.exists():
            return None
        saved = torch_files.load(checkpoint)
        if saved.get("fingerprint") != fingerprint:
            return None
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.averaged:
            self.averaged.load_state_dict(saved["averaged"])
        return TrainState(fingerprint, saved["run_id"], [EpochResult(**h) for h in saved["history"]],
                          saved["best_epoch"], saved["best_val_roc_auc"], saved["best_state"], saved["ngram_c"],
                          saved["ngram_prior"])

    def save(self, checkpoint: Path, state: TrainState) -> None:
        torch_files.save(checkpoint, {
            "fingerprint": state.fingerprint, "run_id": state.run_id,
            "history": [asdict(h) for h in state.history],
            "best_epoch": state.best_epoch, "best_val_roc_auc": state.best_val_roc_auc,
            "best_state": state.best_state, "ngram_c": state.ngram_c,
            "ngram_prior": state.ngram_prior,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "averaged": self.averaged.state_dict() if self.averaged else None,
        })

    def train_epoch(self, train: Batcher, epoch: int) -> tuple[float, float, float, int]:
        """One pass over train: (loss, accuracy, seconds, tokens). Losses stay on the device and
        are checked every CHECK_EVERY batches, so the GPU is never stalled for a per-batch ``.item()``."""
        self.model.train()
        torch.manual_seed(self.seed * 100_003 + epoch + 7919 * self.world.rank)  # own dropout masks per rank
        started = time.perf_counter()
        world, size = self.world, self.config.batch_size
        total = train.batch_count(size, world.size)
        if total == 0:
            raise PipelineError(f"train: {world.size} processes but only {train.batch_count(size)} batches of "
                                f"train.batch_size {size}; use fewer processes or a smaller batch size")
        batches = train.batches(size, seed=self.seed * 100_003 + epoch, shuffle=True, shard=world.rank,
                                shards=world.size)
        losses = torch.zeros(total, dtype=torch.float32, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        checked, tokens, seen = 0, 0, 0
        crops = np.random.default_rng([self.seed, epoch, world.rank])
        progress = tqdm(batches, total=total, desc=f"epoch {epoch}", unit="batch", file=sys.stderr,
                        mininterval=2.0, leave=False, disable=None)
        for number, batch in enumerate(progress, start=1):
            if self.config.crop_share > 0:
                batch = crop_windows(batch, train.length_array[batch.rows], self.config.crop_share, crops)
            with _autocast(self.device, self.config.amp):
                logits = self.network(batch.ids, batch.lengths).float()
            loss = nn.functional.binary_cross_entropy_with_logits(logits, batch.labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip_grad_norm > 0:
                nn.utils.clip_grad_norm_(self.model.recurrent.parameters(), self.config.clip_grad_norm)
            self.optimizer.step()
            if self.averaged:
                self.averaged.update_parameters(self.model.recurrent)
            losses[number - 1] = loss.detach() * len(batch.rows)
            correct += ((logits.detach() > 0).float() == batch.labels).sum()
            tokens += batch.tokens
            seen += len(batch.rows)
            if number % CHECK_EVERY == 0 or number == total:
                self._check_finite(losses[checked:number], epoch, checked)
                checked = number
                progress.set_postfix(loss=f"{losses[number - 1].item() / len(batch.rows):.3f}", refresh=False)
        totals = all_sum(world, torch.stack([losses.sum().double(), correct.double(),
                                             torch.tensor(seen, dtype=torch.float64, device=self.device),
                                             torch.tensor(tokens, dtype=torch.float64, device=self.device)]))
        loss_sum, correct_sum, seen_sum, token_sum = totals.tolist()
        return loss_sum / seen_sum, correct_sum / seen_sum, time.perf_counter() - started, int(token_sum)

    @staticmethod
    def _check_finite(losses: torch.Tensor, epoch: int, offset: int) -> None:
        bad = torch.nonzero(~torch.isfinite(losses))
        if len(bad):
            number = offset + int(bad[0]) + 1
            raise PipelineError(f"train: loss became {losses[number - offset - 1].item()} at epoch {epoch}, "
                                f"batch {number}; stopped, the last good checkpoint is kept")

    def validate(self, val: EncodedSplit) -> dict[str, float]:
        """Combine the averaged recurrent path with the n-gram path on validation (fitting
        ``model.combine`` there) and score the result."""
        labels = np.asarray(val.labels).astype(np.int64)
        recurrent = path_logits(self.scored, Batcher(val, self.device), self.config.batch_size * 4, self.device,
                                self.config.amp)
        columns = [recurrent]
        if self.model.ngrams is not None:
            if self._ngram_logits is None:  # the n-gram path is fixed: its logits once
                with torch.inference_mode():
                    bags = (torch.from_numpy(np.array(part, dtype=np.int64)).to(self.device)
                            for part in (val.ngram_ids, val.ngram_offsets))
                    self._ngram_logits = self.model.ngrams(*bags).double().cpu().numpy()
            columns.append(self._ngram_logits)
        combined = fit_combiner(self.model, np.stack(columns, axis=1), labels)
        scores = classification_metrics(labels, 1 / (1 + np.exp(-combined)))
        return {"loss": scores["loss"], "accuracy": scores["accuracy"], "roc_auc": scores["roc_auc"],
                "recurrent_accuracy": float(np.mean((recurrent > 0) == labels))}

    def classifier_state(self) -> dict:
        """The whole classifier as it is scored: averaged recurrent weights, n-gram path, combiner."""
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        state.update({f"recurrent.{k}": v.detach().cpu().clone() for k, v in self.scored.state_dict().items()})
        return state

    def fit(self, train: Batcher, val: EncodedSplit, state: TrainState,
            on_epoch: Callable[[EpochResult, TrainState], None]) -> TrainState:
        """Train from ``len(state.history)`` to the configured epochs or until patience runs out;
        ``on_epoch`` sees each finished epoch (the stage logs and checkpoints there, on rank 0)."""
        for epoch in range(len(state.history) + 1, self.config.epochs + 1):
            if epoch - state.best_epoch > self.config.patience and state.best_epoch:
                break
            train_loss, train_acc, seconds, tokens = self.train_epoch(train, epoch)
            scores = self.validate(val)
            result = EpochResult(epoch, train_loss, train_acc, scores["loss"], scores["accuracy"], scores["roc_auc"],
                                 scores["recurrent_accuracy"], seconds, tokens / seconds)
            state.history.append(result)
            if result.val_roc_auc > state.best_val_roc_auc:
                state.best_epoch, state.best_val_roc_auc = epoch, result.val_roc_auc
                state.best_state = self.classifier_state()
            on_epoch(result, state)
        return state


def chance_warning(state: TrainState) -> str:
    """A line saying the run learned nothing when its best epoch scores at chance on validation, else ""."""
    if state.best_val_roc_auc > CHANCE_ROC_AUC:
        return ""
    return (f"the best validation ROC AUC, {state.best_val_roc_auc:.4f} at epoch {state.best_epoch}, is at chance "
            f"level (<= {CHANCE_ROC_AUC}): the model predicts no better than a guess; check data.text_column, "
            f"data.label_column and the labels")


def describe(result: EpochResult) -> str:
    """The line printed after each epoch."""
    return (f"epoch {result.epoch}: train loss {result.train_loss:.4f} acc {result.train_accuracy:.4f} | "
            f"val loss {result.val_loss:.4f} acc {result.val_accuracy:.4f} auc {result.val_roc_auc:.4f} "
            f"(recurrent alone {result.val_recurrent_accuracy:.4f}) | {result.seconds:.0f}s, "
            f"{result.tokens_per_second:,.0f} tokens/s")
