"""The epoch loop of the recurrent path (bucketed batches, gradient clipping, weight averaging,
early stopping), once the n-gram path is fitted (exact_fits.py); the two are combined after every
epoch by a logistic regression on validation, the best epoch kept by validation ROC AUC.

Every epoch reseeds from (seed, epoch), so a run resumed from the checkpoint of epoch k follows
exactly the path of an uninterrupted run: same batches, same dropout masks, same metrics.
"""

import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import TrainParams
from rnn_sentiment.evaluation.metrics import classification_metrics
from rnn_sentiment.model.batching import Batch, Batcher, crop_windows
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text.encoding import EncodedSplit, gather_bags, row_blocks
from rnn_sentiment.training import checkpoint
from rnn_sentiment.training.adversarial import backward_with_adversary
from rnn_sentiment.training.checkpoint import EpochResult, TrainState
from rnn_sentiment.training.distributed import World, all_sum
from rnn_sentiment.training.exact_fits import fit_combiner
from rnn_sentiment.training.schedule import learning_rate

CHECK_EVERY = 50  # batches between loss checks: each check waits for the GPU once
# At or below this best validation ROC AUC the model is guessing: chance is 0.5, and a model that learned
# nothing stays within about 0.035 of it on IMDB's 2,500 validation reviews (3 standard deviations).
CHANCE_ROC_AUC = 0.55


@dataclass
class EpochPass:
    """One pass over the training split, summed over every rank."""

    loss: float
    accuracy: float
    seconds: float
    tokens: int


def ema_with_warmup(decay: float) -> Callable:
    """Exponential moving average whose decay grows as min(decay, (1 + t) / (10 + t)) over the
    first steps t: a short run's average follows its weights instead of staying near the
    random initial ones."""

    def update(
        averaged: list[torch.Tensor], current: list[torch.Tensor], steps: torch.Tensor
    ) -> None:
        rate = torch.clamp((1 + steps) / (10 + steps), max=decay)  # on the device: no host sync
        torch._foreach_lerp_(averaged, current, (1 - rate).to(averaged[0].dtype))

    return update


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)


@torch.inference_mode()
def logits_in_row_order(
    model: nn.Module, data: Batcher, batch_size: int, device: torch.device, amp: bool
) -> np.ndarray:
    """``model``'s logit for every row of ``data``, in row order."""
    model.eval()
    logits = torch.empty(len(data), dtype=torch.float32, device=device)
    for batch in data.batches(batch_size):
        with _autocast(device, amp):
            logits[torch.from_numpy(batch.rows).to(device)] = model(
                batch.ids, batch.lengths
            ).float()
    return logits.double().cpu().numpy()


@torch.inference_mode()
def ngram_logits(path: nn.Module, split: EncodedSplit, device: torch.device) -> np.ndarray:
    """The n-gram path's logit for every row of ``split``, in row order, BLOCK_ROWS rows at a
    time (a large validation split's bags are never whole in memory)."""
    reviews, parts = len(split.lengths), [np.empty(0)]
    for first, last in row_blocks(reviews):
        rows = np.arange(first, last)
        ids, offsets = gather_bags(split.ngram_ids, split.ngram_offsets, rows)
        logits = path(
            torch.from_numpy(ids.astype(np.int64)).to(device), torch.from_numpy(offsets).to(device)
        )
        parts.append(logits.double().cpu().numpy())
    return np.concatenate(parts)


class Trainer:
    """Trains ``model.recurrent``; the same code runs on every data-parallel rank. ``model.ngrams``
    must be fitted first (``exact_fits.fit_ngram_path``); validation scores the combined model."""

    def __init__(
        self,
        model: SentimentClassifier,
        config: TrainParams,
        seed: int,
        device: torch.device,
        world: World = World(),
    ):
        self.model = model.to(device)
        self.config = config
        self.seed = seed
        self.device = device
        self.world = world
        recurrent = model.recurrent
        # DDP averages gradients across ranks in backward(); self.model stays the bare network.
        self.network = (
            nn.parallel.DistributedDataParallel(
                recurrent, device_ids=[device] if device.type == "cuda" else None
            )
            if world.distributed
            else recurrent
        )
        self.optimizer = torch.optim.Adam(
            recurrent.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        # An exponential moving average of the weights (Polyak averaging) smooths out the late,
        # noisy Adam steps; when on, it is what validation scores and what the best epoch keeps.
        self.averaged = (
            AveragedModel(recurrent, multi_avg_fn=ema_with_warmup(config.ema_decay))
            if config.ema_decay > 0
            else None
        )
        self._ngram_logits: np.ndarray | None = None

    @property
    def scored(self) -> nn.Module:
        """The recurrent weights that validation scores and the best checkpoint keeps."""
        return self.averaged.module if self.averaged else self.model.recurrent

    def resume(self, path: Path, fingerprint: str) -> TrainState | None:
        """The checkpoint's state, loaded into this trainer, if it belongs to these exact params and data."""
        return checkpoint.resume(path, fingerprint, self.model, self.optimizer, self.averaged)

    def save(self, path: Path, state: TrainState) -> None:
        checkpoint.save(path, state, self.model, self.optimizer, self.averaged)

    def train_epoch(self, train: Batcher, epoch: int) -> EpochPass:
        """One pass over train. Losses stay on the device and are checked every CHECK_EVERY batches,
        so the GPU is never stalled for a per-batch ``.item()``."""
        self.model.train()
        # own dropout masks per rank
        torch.manual_seed(self.seed * 100_003 + epoch + 7919 * self.world.rank)
        started = time.perf_counter()
        world, size = self.world, self.config.batch_size
        total = train.batch_count(size, world.size)
        if total == 0:
            raise PipelineError(
                f"train: {world.size} processes but only {train.batch_count(size)} batches of "
                f"train.batch_size {size}; use fewer processes or a smaller batch size"
            )
        if self.config.epoch_batches:  # a corpus too large for whole epochs between validations
            total = min(total, self.config.epoch_batches)
        batches = itertools.islice(
            train.batches(
                size,
                seed=self.seed * 100_003 + epoch,
                shuffle=True,
                shard=world.rank,
                shards=world.size,
            ),
            total,
        )
        losses = torch.zeros(total, dtype=torch.float32, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        checked, tokens, seen = 0, 0, 0
        crop_rng = np.random.default_rng([self.seed, epoch, world.rank])
        progress = tqdm(
            batches,
            total=total,
            desc=f"epoch {epoch}",
            unit="batch",
            file=sys.stderr,
            mininterval=2.0,
            leave=False,
            disable=None,
        )
        first_step = (epoch - 1) * total
        for number, batch in enumerate(progress, start=1):
            if self.config.crop_share > 0:
                batch = crop_windows(
                    batch, train.length_array[batch.rows], self.config.crop_share, crop_rng
                )
            logits, loss = self._backward(batch)
            if self.config.clip_grad_norm > 0:
                nn.utils.clip_grad_norm_(
                    self.model.recurrent.parameters(), self.config.clip_grad_norm
                )
            rate = learning_rate(
                self.config.lr,
                self.config.schedule,
                first_step + number - 1,
                self.config.epochs * total,
            )
            for group in self.optimizer.param_groups:
                group["lr"] = rate
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
                progress.set_postfix(
                    loss=f"{losses[number - 1].item() / len(batch.rows):.3f}", refresh=False
                )
        totals = all_sum(
            world,
            torch.stack(
                [
                    losses.sum().double(),
                    correct.double(),
                    torch.tensor(seen, dtype=torch.float64, device=self.device),
                    torch.tensor(tokens, dtype=torch.float64, device=self.device),
                ]
            ),
        )
        loss_sum, correct_sum, seen_sum, token_sum = totals.tolist()
        return EpochPass(
            loss=loss_sum / seen_sum,
            accuracy=correct_sum / seen_sum,
            seconds=time.perf_counter() - started,
            tokens=int(token_sum),
        )

    def _backward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch's gradients, fresh, with the adversarial loss's added when it is on; the
        clean logits and loss."""

        def forward() -> torch.Tensor:
            with _autocast(self.device, self.config.amp):
                return self.network(batch.ids, batch.lengths).float()

        def loss_of(logits: torch.Tensor) -> torch.Tensor:
            return nn.functional.binary_cross_entropy_with_logits(logits, batch.labels)

        self.optimizer.zero_grad(set_to_none=True)
        if self.config.adversarial > 0:
            return backward_with_adversary(
                forward, self.model.recurrent.embedding, loss_of, self.config.adversarial
            )
        logits = forward()
        loss = loss_of(logits)
        loss.backward()
        return logits, loss

    @staticmethod
    def _check_finite(losses: torch.Tensor, epoch: int, offset: int) -> None:
        bad = torch.nonzero(~torch.isfinite(losses))
        if len(bad):
            number = offset + int(bad[0]) + 1
            raise PipelineError(
                f"train: loss became {losses[number - offset - 1].item()} at epoch {epoch}, "
                f"batch {number}; stopped, the last good checkpoint is kept"
            )

    def validate(self, val: EncodedSplit) -> dict[str, float]:
        """Combine the averaged recurrent path with the n-gram path on validation (fitting
        ``model.combine`` there) and score the result."""
        labels = np.asarray(val.labels).astype(np.int64)
        recurrent = logits_in_row_order(
            self.scored,
            Batcher(val, self.device),
            self.config.batch_size * 4,
            self.device,
            self.config.amp,
        )
        columns = [recurrent]
        if self.model.ngrams is not None:
            if self._ngram_logits is None:  # the n-gram path is fixed: its logits once
                self._ngram_logits = ngram_logits(self.model.ngrams, val, self.device)
            columns.append(self._ngram_logits)
        combined = fit_combiner(self.model, np.stack(columns, axis=1), labels)
        scores = classification_metrics(labels, 1 / (1 + np.exp(-combined)))
        return {
            "loss": scores["loss"],
            "accuracy": scores["accuracy"],
            "roc_auc": scores["roc_auc"],
            "recurrent_accuracy": float(np.mean((recurrent > 0) == labels)),
        }

    def classifier_state(self) -> dict:
        """The whole classifier as it is scored: averaged recurrent weights, n-gram path, combiner."""
        state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        state.update(
            {
                f"recurrent.{k}": v.detach().cpu().clone()
                for k, v in self.scored.state_dict().items()
            }
        )
        return state

    def fit(
        self,
        train: Batcher,
        val: EncodedSplit,
        state: TrainState,
        on_epoch: Callable[[EpochResult, TrainState], None],
    ) -> TrainState:
        """Train from ``len(state.history)`` to the configured epochs or until patience runs out;
        ``on_epoch`` sees each finished epoch (the stage logs and checkpoints there, on rank 0)."""
        for epoch in range(len(state.history) + 1, self.config.epochs + 1):
            if epoch - state.best_epoch > self.config.patience and state.best_epoch:
                break
            trained = self.train_epoch(train, epoch)
            scores = self.validate(val)
            result = EpochResult(
                epoch=epoch,
                train_loss=trained.loss,
                train_accuracy=trained.accuracy,
                val_loss=scores["loss"],
                val_accuracy=scores["accuracy"],
                val_roc_auc=scores["roc_auc"],
                val_recurrent_accuracy=scores["recurrent_accuracy"],
                seconds=trained.seconds,
                tokens_per_second=trained.tokens / trained.seconds,
            )
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
    return (
        f"the best validation ROC AUC, {state.best_val_roc_auc:.4f} at epoch {state.best_epoch}, is at chance "
        f"level (<= {CHANCE_ROC_AUC}): the model predicts no better than a guess; check data.text_column, "
        f"data.label_column and the labels"
    )


def describe(result: EpochResult) -> str:
    """The line printed after each epoch."""
    return (
        f"epoch {result.epoch}: train loss {result.train_loss:.4f} acc {result.train_accuracy:.4f} | "
        f"val loss {result.val_loss:.4f} acc {result.val_accuracy:.4f} auc {result.val_roc_auc:.4f} "
        f"(recurrent alone {result.val_recurrent_accuracy:.4f}) | {result.seconds:.0f}s, "
        f"{result.tokens_per_second:,.0f} tokens/s"
    )
