"""Unit tests for the network: the recurrent path never reads padding, whatever the architecture;
the n-gram path sums its bag; the classifier combines the two."""

import itertools

import pytest
import torch

from rnn_sentiment.core.params import ModelParams
from rnn_sentiment.model.network import (
    NgramPath,
    RecurrentPath,
    SentimentClassifier,
    reverse_within_length,
)
from rnn_sentiment.text.vocab import PAD_ID

VOCAB_SIZE = 50
SHORT, LONG = 5, 23


def config(
    cell="gru", bidirectional=True, pooling="max_mean", num_layers=1, dropout=0.3
) -> ModelParams:
    return ModelParams(
        cell=cell,
        embed_dim=8,
        hidden_dim=6,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout,
        pooling=pooling,
    )


def build(seed: int = 0, **kwargs) -> RecurrentPath:
    torch.manual_seed(seed)
    return RecurrentPath(VOCAB_SIZE, config(**kwargs)).eval()


GRID = list(
    itertools.product(
        ["rnn", "gru", "lstm"], [False, True], ["last", "max", "mean", "max_mean"], [1, 2]
    )
)


@pytest.mark.parametrize(
    "cell, bidirectional, pooling, num_layers",
    GRID,
    ids=[f"{c}-{'bi' if b else 'uni'}-{p}-L{n}" for c, b, p, n in GRID],
)
def test_a_review_gets_the_same_logit_alone_and_right_padded_in_a_batch(
    cell, bidirectional, pooling, num_layers
):
    model = build(cell=cell, bidirectional=bidirectional, pooling=pooling, num_layers=num_layers)
    generator = torch.Generator().manual_seed(1)
    short = torch.randint(2, VOCAB_SIZE, (SHORT,), generator=generator)
    long = torch.randint(2, VOCAB_SIZE, (LONG,), generator=generator)
    with torch.no_grad():
        alone = model(short.unsqueeze(0), torch.tensor([SHORT]))
        assert alone.shape == (1,)

        padded = torch.full((2, LONG), PAD_ID, dtype=torch.long)
        padded[0, :LONG] = long
        padded[1, :SHORT] = short
        batched = model(padded, torch.tensor([LONG, SHORT]))
        assert batched.shape == (2,)
        assert torch.allclose(batched[1], alone[0], atol=1e-5), (batched[1].item(), alone[0].item())

        # The long review must also be unaffected by its shorter neighbour.
        long_alone = model(long.unsqueeze(0), torch.tensor([LONG]))
        assert torch.allclose(batched[0], long_alone[0], atol=1e-5)

        # "Never read" means even non-pad garbage after the length changes nothing.
        garbage = padded.clone()
        garbage[1, SHORT:] = torch.randint(2, VOCAB_SIZE, (LONG - SHORT,), generator=generator)
        assert torch.allclose(model(garbage, torch.tensor([LONG, SHORT]))[1], alone[0], atol=1e-5)


def test_the_ngram_path_is_its_regression_over_the_ratio_scaled_bag_of_unit_length():
    path = NgramPath(10)
    ratios, weights = (
        torch.linspace(-2, 2, 10, dtype=torch.float64),
        torch.arange(10, dtype=torch.float64) / 10,
    )
    path.set(ratios, weights)
    # three reviews: {1, 4}, {} and {2, 3, 9}
    with torch.no_grad():
        logits = path(torch.tensor([1, 4, 2, 3, 9]), torch.tensor([0, 2, 2, 5]))
    for logit, bag in zip(logits.tolist(), ([1, 4], [], [2, 3, 9]), strict=True):
        scaled = ratios[bag] / ratios[bag].norm() if bag else ratios[bag]
        assert logit == pytest.approx(float((weights[bag] * scaled).sum()), abs=1e-6)
    # a review of one n-gram, or of that n-gram many times over: the same logit
    with torch.no_grad():
        assert path(torch.tensor([4]), torch.tensor([0, 1])).item() == pytest.approx(
            weights[4].item() * (1 if ratios[4] > 0 else -1), abs=1e-6
        )


def test_the_classifier_is_its_combiner_over_the_paths_logits():
    torch.manual_seed(0)
    model = SentimentClassifier(VOCAB_SIZE, 10, config(dropout=0.0)).eval()
    model.ngrams.set(
        torch.linspace(-1, 1, 10), torch.randn(10, generator=torch.Generator().manual_seed(1))
    )
    with torch.no_grad():
        model.combine.weight.copy_(torch.tensor([[0.3, 1.7]]))
        model.combine.bias.fill_(-0.2)
    ids = torch.randint(2, VOCAB_SIZE, (2, 6), generator=torch.Generator().manual_seed(2))
    lengths, bags, offsets = torch.tensor([6, 3]), torch.tensor([1, 2, 7]), torch.tensor([0, 2, 3])
    with torch.no_grad():
        paths = model.path_logits(ids, lengths, bags, offsets)
        assert paths.shape == (2, 2)
        assert torch.allclose(paths[:, 0], model.recurrent(ids, lengths))
        assert torch.allclose(paths[:, 1], model.ngrams(bags, offsets))
        assert torch.allclose(
            model(ids, lengths, bags, offsets), 0.3 * paths[:, 0] + 1.7 * paths[:, 1] - 0.2
        )


def test_without_ngrams_the_classifier_is_the_recurrent_path_through_its_combiner():
    torch.manual_seed(0)
    model = SentimentClassifier(VOCAB_SIZE, 0, config()).eval()
    assert model.ngrams is None and model.combine.weight.shape == (1, 1)
    ids = torch.randint(2, VOCAB_SIZE, (3, 5), generator=torch.Generator().manual_seed(3))
    lengths = torch.tensor([5, 2, 1])
    empty, offsets = torch.empty(0, dtype=torch.long), torch.zeros(4, dtype=torch.long)
    with torch.no_grad():
        assert torch.allclose(model(ids, lengths, empty, offsets), model.recurrent(ids, lengths))


def test_the_logit_does_depend_on_the_real_tokens():
    """Guard for the padding test: the model is not constant, so equality there means something."""
    model = build(cell="lstm", pooling="last")
    ids = torch.randint(2, VOCAB_SIZE, (2, 7), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        logits = model(ids, torch.tensor([7, 7]))
        truncated = model(ids, torch.tensor([7, 4]))
    assert not torch.allclose(logits[0], logits[1])
    assert not torch.allclose(logits[1], truncated[1])


def test_reverse_within_length_reverses_only_the_real_steps():
    x = (
        torch.tensor(
            [
                [1, 2, 3, 0, 0],
                [4, 5, 6, 7, 8],
                [9, 0, 0, 0, 0],
                [10, 11, 0, 0, 0],
            ]
        )
        .unsqueeze(-1)
        .repeat(1, 1, 2)
    )
    x[..., 1] *= 100
    lengths = torch.tensor([3, 5, 1, 2])
    result = reverse_within_length(x, lengths)
    assert result[..., 0].tolist() == [
        [3, 2, 1, 0, 0],
        [8, 7, 6, 5, 4],
        [9, 0, 0, 0, 0],
        [11, 10, 0, 0, 0],
    ]
    assert torch.equal(result[..., 1], result[..., 0] * 100)  # features travel with their step
    assert torch.equal(reverse_within_length(result, lengths), x)  # an involution


def test_reverse_within_length_leaves_padding_values_in_place():
    x = torch.arange(2 * 6 * 3, dtype=torch.float32).view(2, 6, 3)
    lengths = torch.tensor([4, 2])
    result = reverse_within_length(x, lengths)
    assert torch.equal(result[0, 4:], x[0, 4:])
    assert torch.equal(result[1, 2:], x[1, 2:])
    assert torch.equal(result[0, :4], x[0, :4].flip(0))
    assert torch.equal(result[1, :2], x[1, :2].flip(0))


@pytest.mark.parametrize(
    "cell, bidirectional, pooling",
    [
        ("rnn", False, "last"),
        ("gru", True, "max_mean"),
        ("lstm", True, "last"),
        ("lstm", False, "mean"),
    ],
)
@pytest.mark.parametrize("batch, time", [(1, 1), (3, 4), (7, 12)])
def test_an_untrained_model_returns_one_finite_logit_per_review(
    cell, bidirectional, pooling, batch, time
):
    model = build(cell=cell, bidirectional=bidirectional, pooling=pooling, num_layers=2)
    ids = torch.randint(
        2, VOCAB_SIZE, (batch, time), generator=torch.Generator().manual_seed(batch)
    )
    lengths = torch.randint(1, time + 1, (batch,), generator=torch.Generator().manual_seed(time))
    lengths[0] = time
    ids[torch.arange(time).unsqueeze(0) >= lengths.unsqueeze(1)] = PAD_ID
    with torch.no_grad():
        logits = model(ids, lengths)
    assert logits.shape == (batch,)
    assert torch.isfinite(logits).all()
    model.train()
    assert model(ids, lengths).shape == (batch,)  # training mode (dropout on) too
