"""Unit tests for rnn_sentiment.model: padding is never read, whatever the architecture."""

import itertools

import pytest
import torch

from rnn_sentiment.model.network import SentimentClassifier, reverse_within_length, training_loss
from rnn_sentiment.core.params import ModelParams
from rnn_sentiment.text.vocab import PAD_ID

VOCAB_SIZE = 50
SHORT, LONG = 5, 23


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors gain nothing from threads, and OpenMP spinning stalls on a busy 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def config(cell="gru", bidirectional=True, pooling="max_mean", num_layers=1, dropout=0.3,
           ngram_buckets=0) -> ModelParams:
    return ModelParams(cell=cell, embed_dim=8, hidden_dim=6, num_layers=num_layers,
                       bidirectional=bidirectional, dropout=dropout, pooling=pooling, ngram_buckets=ngram_buckets)


def build(seed: int = 0, **kwargs) -> SentimentClassifier:
    torch.manual_seed(seed)
    return SentimentClassifier(VOCAB_SIZE, config(**kwargs)).eval()


GRID = list(itertools.product(["rnn", "gru", "lstm"], [False, True], ["last", "max", "mean", "max_mean"], [1, 2]))


@pytest.mark.parametrize("cell, bidirectional, pooling, num_layers", GRID,
                         ids=[f"{c}-{'bi' if b else 'uni'}-{p}-L{n}" for c, b, p, n in GRID])
def test_a_review_gets_the_same_logit_alone_and_right_padded_in_a_batch(cell, bidirectional, pooling, num_layers):
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


def with_random_ngram_weights(**kwargs) -> SentimentClassifier:
    """N-gram weights start at zero; random ones make the bag's path visible to the assertions."""
    model = build(ngram_buckets=97, **kwargs)
    with torch.no_grad():
        model.ngrams.weights.weight.normal_(generator=torch.Generator().manual_seed(5))
        model.ngrams.bias.fill_(0.3)
    return model


def test_the_ngram_path_never_reads_padding_or_what_follows_the_length():
    model = with_random_ngram_weights()
    generator = torch.Generator().manual_seed(2)
    short = torch.randint(2, VOCAB_SIZE, (SHORT,), generator=generator)
    padded = torch.randint(2, VOCAB_SIZE, (2, LONG), generator=generator)  # garbage after SHORT
    padded[1, :SHORT] = short
    with torch.no_grad():
        alone = model.path_logits(short.unsqueeze(0), torch.tensor([SHORT]))
        batched = model.path_logits(padded, torch.tensor([LONG, SHORT]))
        assert torch.allclose(batched[1], alone[0], atol=1e-5)
        one_word = model.path_logits(short[:1].unsqueeze(0), torch.tensor([1]))  # no bigram at all
        assert torch.isfinite(one_word).all()


def test_the_prediction_is_the_mean_of_the_rnn_and_ngram_logits():
    model = with_random_ngram_weights()
    ids = torch.randint(2, VOCAB_SIZE, (3, 6), generator=torch.Generator().manual_seed(4))
    lengths = torch.tensor([6, 4, 2])
    with torch.no_grad():
        paths = model.path_logits(ids, lengths)
        assert paths.shape == (3, 2)
        assert not torch.allclose(paths[:, 0], paths[:, 1])
        assert torch.allclose(model(ids, lengths), paths.mean(dim=1))
        assert torch.allclose(paths[:, 0], build()(ids, lengths))  # same seed, RNN only: same RNN logit


def test_the_ngram_path_sees_word_order_through_bigrams():
    model = with_random_ngram_weights()
    lengths = torch.tensor([3])
    with torch.no_grad():
        ngram = model.path_logits(torch.tensor([[5, 9, 13]]), lengths)[0, 1]
        swapped = model.path_logits(torch.tensor([[9, 5, 13]]), lengths)[0, 1]
    assert not torch.allclose(ngram, swapped)  # same words, other pairs


def test_each_path_learns_from_its_own_loss_not_from_the_other_paths_output():
    """Trained on one joint loss, the bag only fit the RNN's residual (measured: no help on short
    texts); with a loss per path, the RNN's gradient must not change when the bag's output does."""
    ids = torch.randint(2, VOCAB_SIZE, (4, 7), generator=torch.Generator().manual_seed(6))
    lengths, labels = torch.tensor([7, 5, 3, 2]), torch.tensor([1.0, 0.0, 1.0, 0.0])

    def rnn_gradient(model):
        model.zero_grad()
        training_loss(model.path_logits(ids, lengths), labels).backward()
        return model.recurrent.head.weight.grad.clone()

    plain = build(ngram_buckets=97, dropout=0.0)
    assert torch.allclose(rnn_gradient(plain), rnn_gradient(with_random_ngram_weights(dropout=0.0)))
    assert plain.ngrams.weights.weight.grad.abs().sum() > 0  # and the bag does learn


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
    x = torch.tensor([
        [1, 2, 3, 0, 0],
        [4, 5, 6, 7, 8],
        [9, 0, 0, 0, 0],
        [10, 11, 0, 0, 0],
    ]).unsqueeze(-1).repeat(1, 1, 2)
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


@pytest.mark.parametrize("cell, bidirectional, pooling", [
    ("rnn", False, "last"), ("gru", True, "max_mean"), ("lstm", True, "last"), ("lstm", False, "mean"),
])
@pytest.mark.parametrize("batch, time", [(1, 1), (3, 4), (7, 12)])
def test_an_untrained_model_returns_one_finite_logit_per_review(cell, bidirectional, pooling, batch, time):
    model = build(cell=cell, bidirectional=bidirectional, pooling=pooling, num_layers=2)
    ids = torch.randint(2, VOCAB_SIZE, (batch, time), generator=torch.Generator().manual_seed(batch))
    lengths = torch.randint(1, time + 1, (batch,), generator=torch.Generator().manual_seed(time))
    lengths[0] = time
    ids[torch.arange(time).unsqueeze(0) >= lengths.unsqueeze(1)] = PAD_ID
    with torch.no_grad():
        logits = model(ids, lengths)
    assert logits.shape == (batch,)
    assert torch.isfinite(logits).all()
    model.train()
    assert model(ids, lengths).shape == (batch,)  # training mode (dropout on) too
