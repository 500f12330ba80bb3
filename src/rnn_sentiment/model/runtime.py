"""Where and how torch runs: device, threads and seeds, set on purpose by every entry point."""

import os

import torch

from rnn_sentiment.core.errors import PipelineError


def choose_device(setting: str) -> torch.device:
    if setting == "cuda" and not torch.cuda.is_available():
        raise PipelineError("train.device: cuda requested but no CUDA device is available")
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def configure_threads(threads: int, processes_here: int = 1) -> None:
    """``threads`` per process, or (0) this machine's cores shared among its processes."""
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // processes_here))


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
