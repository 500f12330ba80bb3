"""Adversarial training on the embeddings (Miyato, Dai & Goodfellow 2017): besides its own loss,
each batch is also trained on the loss it would have if every review's embedded tokens were
pushed a small step in the direction that raises its loss most.

The step for a review is ``size`` times the norm of its embedded tokens, along the gradient of
the loss with respect to them: relative to the embeddings' own scale, so the network cannot
shrink the perturbation by growing its embeddings (the paper normalises the embeddings instead).
Padding has no gradient and is never moved. Both passes are the caller's ``forward``, so a
DistributedDataParallel wrapper averages both gradients across ranks. Costs a second forward and
backward pass per batch.
"""

from collections.abc import Callable

import torch
from torch import nn


def backward_with_adversary(
    forward: Callable[[], torch.Tensor],
    embedding: nn.Embedding,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    size: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward of the clean loss and of the adversarial one (their gradients add up), where
    ``forward`` runs the batch through the network that holds ``embedding``; returns the clean
    logits and loss."""
    embedded = []

    def keep(module, args, output):
        output.retain_grad()
        embedded.append(output)

    handle = embedding.register_forward_hook(keep)
    try:
        logits = forward()
    finally:
        handle.remove()
    loss = loss_of(logits)
    loss.backward()
    clean, gradient = embedded[0].detach(), embedded[0].grad
    scale = size * _norms(clean) / _norms(gradient).clamp(min=1e-12)
    step = gradient * scale

    handle = embedding.register_forward_hook(lambda module, args, output: output + step)
    try:
        loss_of(forward()).backward()
    finally:
        handle.remove()
    return logits, loss


def _norms(x: torch.Tensor) -> torch.Tensor:
    """[batch, 1, 1]: each review's Frobenius norm over its steps and features."""
    return x.flatten(1).norm(dim=1).view(-1, 1, 1)
