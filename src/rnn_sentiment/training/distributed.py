"""Data-parallel training with PyTorch's own machinery: torchrun, torch.distributed, DDP.

The train stage runs unchanged under ``torchrun`` (one node or many): it reads RANK and
WORLD_SIZE from the environment torchrun sets, joins the process group (``gloo`` on CPU,
``nccl`` on CUDA), trains on its own shard of the batches, and only rank 0 writes artifacts
or talks to MLflow. With ``train.processes > 1`` and no torchrun around it, the stage launches
itself through ``torch.distributed.run`` on this machine.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from rnn_sentiment.core.errors import PipelineError

# Lines our ranks print that the user should see live; torchrun's own logging is held back.
OWN_LINES = ("epoch ", "resuming ", "warning: ")


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def world_from_env() -> World:
    if not under_torchrun():
        return World()
    env = os.environ
    return World(
        int(env["RANK"]),
        int(env["WORLD_SIZE"]),
        int(env.get("LOCAL_RANK", 0)),
        int(env.get("LOCAL_WORLD_SIZE", 1)),
    )


def device_for(world: World, device: torch.device) -> torch.device:
    """One GPU per local rank on CUDA; CPU ranks share the CPU."""
    if device.type == "cuda" and world.distributed:
        if world.local_rank >= torch.cuda.device_count():
            raise PipelineError(
                f"torchrun: local rank {world.local_rank} but only "
                f"{torch.cuda.device_count()} CUDA devices on this node"
            )
        torch.cuda.set_device(world.local_rank)
        return torch.device("cuda", world.local_rank)
    return device


@contextmanager
def process_group(world: World, device: torch.device) -> Iterator[None]:
    """Join the ranks' process group for the block (``gloo`` on CPU, ``nccl`` on CUDA); a no-op
    on one process."""
    if not world.distributed or dist.is_initialized():
        yield
        return
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def all_sum(world: World, values: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over all ranks (a no-op on one process)."""
    if world.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def relaunch(processes: int) -> int:
    """Run this very script under ``torchrun --standalone --nproc_per_node processes``.

    Our ranks report bad input as one ``error:`` line; torchrun's own log and its multi-line
    failure report are held back, so the user still gets that one line and a non-zero exit.
    """
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        *sys.argv,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    process = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    errors, held = [], []
    for line in process.stderr:
        if line.startswith("error: "):
            errors.append(line)
        elif line.startswith(OWN_LINES):
            sys.stderr.write(line)
        else:
            held.append(line.strip())
    code = process.wait()
    if code == 0:
        return 0
    last = next((line for line in reversed(held) if line), "no output")
    sys.stderr.write(
        errors[0]
        if errors
        else f"error: torchrun with {processes} processes failed (exit {code}): {last[:200]}; "
        f"run `torchrun --nproc_per_node {processes} {' '.join(sys.argv)}` for its full output\n"
    )
    return 2
