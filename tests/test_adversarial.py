"""Adversarial training on the embeddings: the gradients it adds are those of the loss at the
embeddings moved along their own gradient, by a step relative to each review's embeddings."""

import torch
from torch import nn

from rnn_sentiment.core import params
from rnn_sentiment.model.network import RecurrentPath
from rnn_sentiment.training.adversarial import backward_with_adversary


def network() -> RecurrentPath:
    torch.manual_seed(0)
    config = params.load().model.model_copy(update={"embed_dim": 6, "hidden_dim": 5})
    return RecurrentPath(20, config).eval()  # no dropout: both passes comparable by hand


def batch():
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 10, 11, 0]])
    return ids, torch.tensor([4, 2, 3]), torch.tensor([1.0, 0.0, 1.0])


def loss_of(labels):
    return lambda logits: nn.functional.binary_cross_entropy_with_logits(logits, labels)


def test_the_adversarial_gradients_are_the_loss_at_embeddings_pushed_along_their_gradient():
    ids, lengths, labels = batch()
    size = 0.05

    expected_net = network()
    embedded = expected_net.embedding(ids)
    clean = loss_of(labels)(_from_embedded(expected_net, embedded, lengths))
    (gradient,) = torch.autograd.grad(clean, embedded, retain_graph=True)
    norms = embedded.detach().flatten(1).norm(dim=1) / gradient.flatten(1).norm(dim=1)
    step = size * norms.view(-1, 1, 1) * gradient
    pushed = loss_of(labels)(_from_embedded(expected_net, embedded + step, lengths))
    pushed_grads = torch.autograd.grad(
        pushed, list(expected_net.parameters()), retain_graph=True, allow_unused=True
    )
    expected_net.zero_grad()
    clean.backward()

    net = network()
    logits, loss = backward_with_adversary(
        lambda: net(ids, lengths), net.embedding, loss_of(labels), size
    )

    assert loss.item() == clean.item()
    assert pushed.item() > clean.item(), "the step raises the loss"
    assert torch.all(step[1, 2:] == 0) and torch.all(step[2, 3:] == 0), "padding never moves"
    for (name, param), extra, reference in zip(
        net.named_parameters(), pushed_grads, expected_net.parameters(), strict=True
    ):
        want = reference.grad + (extra if extra is not None else 0)
        torch.testing.assert_close(param.grad, want, msg=name)


def test_the_hooks_are_gone_after_the_step():
    ids, lengths, labels = batch()
    net = network()
    backward_with_adversary(lambda: net(ids, lengths), net.embedding, loss_of(labels), 0.05)
    plain = network()
    torch.testing.assert_close(net(ids, lengths), plain(ids, lengths))


def _from_embedded(net: RecurrentPath, embedded: torch.Tensor, lengths: torch.Tensor):
    """The network's forward from its embedding's output on (the hook's view of the same pass)."""
    handle = net.embedding.register_forward_hook(lambda module, args, output: embedded)
    try:
        return net(batch()[0], lengths)
    finally:
        handle.remove()
