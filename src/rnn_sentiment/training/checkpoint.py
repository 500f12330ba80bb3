"""The training state and its checkpoint: saved when training starts and after every epoch, so a
killed run resumes where it stopped. Both files hold only tensors, strings and numbers."""

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel

from rnn_sentiment.model import torch_files


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
    """Everything needed to continue after a kill, besides the weights and optimizer being trained."""

    fingerprint: str
    run_id: str
    history: list[EpochResult] = field(default_factory=list)
    best_epoch: int = 0
    best_val_roc_auc: float = -1.0
    best_state: dict | None = None  # the whole classifier at the best epoch
    ngram_c: float = 0.0  # C the n-gram path was fitted with (0: no n-gram path)
    ngram_prior: float = 0.0  # and the prior its weights were pulled toward


RETRAIN = "delete it and run `dvc repro train` to train from the start"
# What the checkpoint holds beside the TrainState fields.
TRAINED = ("model", "optimizer", "averaged")


def save(
    path: Path,
    state: TrainState,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    averaged: AveragedModel | None,
) -> None:
    torch_files.save(
        path,
        {
            **{f.name: getattr(state, f.name) for f in fields(TrainState)},
            "history": [asdict(h) for h in state.history],
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "averaged": averaged.state_dict() if averaged else None,
        },
    )


def resume(
    path: Path,
    fingerprint: str,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    averaged: AveragedModel | None,
) -> TrainState | None:
    """The saved state, loaded into ``model``, ``optimizer`` and ``averaged``, if it belongs to these
    exact params and data, else None. One saved by another layout of the code is refused."""
    if not path.exists():
        return None
    saved = torch_files.load(path)
    if saved.get("fingerprint") != fingerprint:
        return None
    names = [f.name for f in fields(TrainState)]
    torch_files.check_layout(path, "checkpoint", [*names, *TRAINED], saved, RETRAIN)
    torch_files.check_layout(
        path, "checkpoint's model", model.state_dict(), saved["model"], RETRAIN
    )
    for epoch in saved["history"]:
        torch_files.check_layout(
            path,
            "checkpoint's epoch history",
            [f.name for f in fields(EpochResult)],
            epoch,
            RETRAIN,
        )
    state = TrainState(**{name: saved[name] for name in names})
    state.history = [EpochResult(**epoch) for epoch in state.history]
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if averaged:
        averaged.load_state_dict(saved["averaged"])
    return state
