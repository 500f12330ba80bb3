"""The epoch loop: bucketed batches, gradient clipping, weight averaging, early stopping,
per-epoch checkpoints.

Every epoch reseeds from (seed, epoch), so a run resumed from the checkpoint of epoch k follows
exactly the path of an uninterrupted run: same batches, same dropout masks, same metrics.
"""

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.core.params import TrainParams
from rnn_sentiment.model import torch_files
from rnn_sentiment.model.batching import Batcher, crop_windows
from rnn_sentiment.model.network import PathLogits, SentimentClassifier, training_loss
from rnn_sentiment.training.distributed import World, all_sum

CHECK_EVERY = 50  # batches between loss checks: each check waits for the GPU once


@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float
    tokens_per_second: float


@dataclass
class TrainState:
    """Everything needed to continue after a kill: saved after every finished epoch."""
    fingerprint: str
    run_id: str
    history: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    best_val_accuracy: float = -1.0
    best_state: dict | None = None


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and device.type == "cuda")


@torch.inference_mode()
def evaluate(model: nn.Module, data: Batcher, batch_size: int, device: torch.device, amp: bool) -> tuple[float, float]:
    """Mean loss and accuracy over a split (sums stay on the device until the end)."""
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for batch in data.batches(batch_size):
        with _autocast(device, amp):
            logits = model(batch.ids, batch.lengths).float()
        loss_sum += nn.functional.binary_cross_entropy_with_logits(logits, batch.labels, reduction="sum")
        correct += ((logits > 0).float() == batch.labels).sum()
    return loss_sum.item() / len(data), correct.item() / len(data)


def optimizer(model: SentimentClassifier, config: TrainParams) -> torch.optim.Adam:
    """Adam, one parameter group per path; the bag of n-grams, a linear model over sparse
    features, takes the larger steps of ``train.ngram_lr`` (docs/design.md)."""
    groups = [{"params": list(model.recurrent.parameters())}]
    if model.ngrams is not None:
        groups.append({"params": list(model.ngrams.parameters()), "lr": config.ngram_lr})
    return torch.optim.Adam(groups, lr=config.lr, weight_decay=config.weight_decay)


class Trainer:
    """Fits one classifier; the same code runs on every data-parallel rank."""

    def __init__(self, model: SentimentClassifier, config: TrainParams, seed: int, device: torch.device,
                 world: World = World()):
        self.model = model.to(device)
        self.config = config
        self.seed = seed
        self.device = device
        self.world = world
        # DDP averages gradients across ranks in backward(); self.model stays the bare network.
        per_path = PathLogits(self.model)
        self.network = (nn.parallel.DistributedDataParallel(per_path, device_ids=[device] if device.type == "cuda" else None)
                        if world.distributed else per_path)
        self.optimizer = optimizer(model, config)
        # An exponential moving average of the weights (Polyak averaging) smooths out the late,
        # noisy Adam steps; when on, it is what validation scores and what the best epoch keeps.
        self.averaged = (AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay))
                         if config.ema_decay > 0 else None)

    @property
    def scored(self) -> nn.Module:
        """The weights that validation scores and the best checkpoint keeps."""
        return self.averaged.module if self.averaged else self.model

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
                          saved["best_epoch"], saved["best_val_accuracy"], saved["best_state"])

    def save(self, checkpoint: Path, state: TrainState) -> None:
        torch_files.save(checkpoint, {
            "fingerprint": state.fingerprint, "run_id": state.run_id,
            "history": [asdict(h) for h in state.history],
            "best_epoch": state.best_epoch, "best_val_accuracy": state.best_val_accuracy,
            "best_state": state.best_state,
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
                path_logits = self.network(batch.ids, batch.lengths).float()
            loss = training_loss(path_logits, batch.labels)
            logits = path_logits.detach().mean(dim=1)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.clip_grad_norm > 0:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad_norm)
            self.optimizer.step()
            if self.averaged:
                self.averaged.update_parameters(self.model)
            # Reported like validation's: the loss and accuracy of the prediction (the paths' mean).
            losses[number - 1] = nn.functional.binary_cross_entropy_with_logits(logits, batch.labels) * len(batch.rows)
            correct += ((logits > 0).float() == batch.labels).sum()
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

    def fit(self, train: Batcher, val: Batcher, state: TrainState,
            on_epoch: Callable[[EpochResult, TrainState], None]) -> TrainState:
        """Train from ``len(state.history)`` to the configured epochs or until patience runs out;
        ``on_epoch`` sees each finished epoch (the stage logs and checkpoints there, on rank 0)."""
        for epoch in range(len(state.history) + 1, self.config.epochs + 1):
            if epoch - state.best_epoch > self.config.patience and state.best_epoch:
                break
            train_loss, train_acc, seconds, tokens = self.train_epoch(train, epoch)
            val_loss, val_acc = evaluate(self.scored, val, self.config.batch_size * 4, self.device, self.config.amp)
            result = EpochResult(epoch, train_loss, train_acc, val_loss, val_acc, seconds, tokens / seconds)
            state.history.append(result)
            if val_acc > state.best_val_accuracy:
                state.best_epoch, state.best_val_accuracy = epoch, val_acc
                state.best_state = {k: v.detach().cpu().clone() for k, v in self.scored.state_dict().items()}
            on_epoch(result, state)
        return state


def describe(result: EpochResult) -> str:
    """The line printed after each epoch."""
    return (f"epoch {result.epoch}: train loss {result.train_loss:.4f} acc {result.train_accuracy:.4f} | "
            f"val loss {result.val_loss:.4f} acc {result.val_accuracy:.4f} | {result.seconds:.0f}s, "
            f"{result.tokens_per_second:,.0f} tokens/s")
