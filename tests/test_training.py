"""Training in-process: the n-gram path's fit and the combiner, NaN stop with the last good
checkpoint kept, clipping, weight averaging (with its warm-up), resume."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from rnn_sentiment.core import params
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.model import torch_files
from rnn_sentiment.model.batching import Batch, Batcher
from rnn_sentiment.model.network import SentimentClassifier
from rnn_sentiment.text import encoding
from rnn_sentiment.text.encoding import EncodedSplit
from rnn_sentiment.text.ngrams import log_count_ratios
from rnn_sentiment.training import exact_fits, linear
from rnn_sentiment.training import loop as training
from rnn_sentiment.training.checkpoint import TrainState

VOCAB = 30
ALL = 10**6  # fit the n-gram path on every review


def encoded(rows: int, seed: int) -> EncodedSplit:
    """Reviews whose tokens say their label; each token is also its own n-gram (id - 2)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 12, rows).astype(np.int32)
    labels = rng.integers(0, 2, rows).astype(np.int8)
    ids = np.zeros((rows, 12), np.int32)
    for row, (length, label) in enumerate(zip(lengths, labels, strict=True)):
        ids[row, :length] = rng.integers(2, VOCAB // 2, length) + (VOCAB // 2 - 2) * label
    bags = [np.unique(ids[row, :length]) - 2 for row, length in enumerate(lengths)]
    offsets = np.concatenate([[0], np.cumsum([len(bag) for bag in bags])])
    return EncodedSplit(ids, lengths, labels, np.concatenate(bags).astype(np.int32), offsets)


def split(rows: int, seed: int) -> Batcher:
    return Batcher(encoded(rows, seed))


NGRAM_TABLE = pd.DataFrame({"ngram": [str(i) for i in range(VOCAB - 2)]})


def binary_bags(split: EncodedSplit) -> np.ndarray:
    """[reviews, n-grams] 0/1: which n-grams each review holds."""
    return (exact_fits.bag_matrix(split, np.ones(VOCAB - 2)).to_dense().numpy() > 0).astype(float)


def count_table(train: EncodedSplit) -> pd.DataFrame:
    """The n-gram table of ``train``: the reviews of each class holding each n-gram."""
    bags = binary_bags(train).astype(int)
    return NGRAM_TABLE.assign(
        positive=bags[train.labels == 1].sum(axis=0), negative=bags[train.labels == 0].sum(axis=0)
    )


@pytest.fixture
def config():
    base = params.load()
    return base.model_copy(
        update={
            "model": base.model.model_copy(update={"embed_dim": 8, "hidden_dim": 8}),
            "train": base.train.model_copy(
                update={
                    "epochs": 1,
                    "batch_size": 8,
                    "patience": 5,
                    "lr": 0.01,
                    "ema_decay": 0.0,
                    # the mechanisms under test here alone; their own tests turn these on
                    "schedule": "constant",
                    "adversarial": 0.0,
                }
            ),
        }
    )


def with_train(config, **changes):
    return config.model_copy(update={"train": config.train.model_copy(update=changes)})


def checkpointing(run: training.Trainer, checkpoint):
    """The stage's per-epoch callback, less MLflow: save the checkpoint."""
    return lambda result, state: run.save(checkpoint, state)


def trainer(config, epochs: int, ngram_features: int = 0) -> training.Trainer:
    torch.manual_seed(config.seed)
    return training.Trainer(
        SentimentClassifier(VOCAB, ngram_features, config.model),
        with_train(config, epochs=epochs).train,
        config.seed,
        torch.device("cpu"),
    )


def no_op(result, state) -> None:
    pass


def test_a_nan_loss_stops_naming_epoch_and_batch_and_keeps_the_last_good_checkpoint(
    tmp_path, config
):
    checkpoint = tmp_path / "checkpoint.pt"
    train, val = split(200, 0), encoded(40, 1)
    first = trainer(config, epochs=1)
    first.fit(train, val, TrainState("fp", "run"), on_epoch=checkpointing(first, checkpoint))
    saved = checkpoint.read_bytes()

    second = trainer(config, epochs=2)
    state = second.resume(checkpoint, "fp")
    assert state is not None and len(state.history) == 1
    with torch.no_grad():
        # any batch holding token 5 now yields NaN
        second.model.recurrent.embedding.weight[5] = float("nan")
    with pytest.raises(PipelineError) as caught:
        second.fit(train, val, state, on_epoch=checkpointing(second, checkpoint))
    message = str(caught.value)
    assert (
        "loss became nan at epoch 2, batch " in message
        and "last good checkpoint is kept" in message
    )
    assert checkpoint.read_bytes() == saved, "the epoch-1 checkpoint is left exactly as it was"
    kept = torch_files.load(checkpoint)
    assert len(kept["history"]) == 1
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def test_the_nan_batch_named_is_the_first_one_holding_the_poisoned_token(tmp_path, config):
    train, val = split(200, 0), encoded(40, 1)
    run = trainer(config, epochs=1)
    with torch.no_grad():
        run.model.recurrent.embedding.weight[7] = float("inf")
    seed = config.seed * 100_003 + 1
    expected = next(
        number
        for number, batch in enumerate(
            train.batches(config.train.batch_size, seed=seed, shuffle=True), start=1
        )
        if (batch.ids == 7).any()
    )
    with pytest.raises(PipelineError, match=f"at epoch 1, batch {expected};"):
        run.fit(
            train,
            val,
            TrainState("fp", "run"),
            on_epoch=checkpointing(run, tmp_path / "checkpoint.pt"),
        )
    assert not (tmp_path / "checkpoint.pt").exists(), (
        "no epoch finished, so no checkpoint was written"
    )


def test_gradient_clipping_bounds_the_update(config):
    train = split(8, 0)  # one batch: one update
    steps = {}
    for clip in (0.0, 1e-4):
        run = trainer(with_train(config, clip_grad_norm=clip, lr=1.0), epochs=1)
        before = [p.detach().clone() for p in run.model.recurrent.parameters()]
        # update = lr * grad: shows the clip
        run.optimizer = torch.optim.SGD(run.model.recurrent.parameters(), lr=1.0)
        run.train_epoch(train, 1)
        with torch.no_grad():
            steps[clip] = torch.sqrt(
                sum(
                    ((p - b) ** 2).sum()
                    for p, b in zip(run.model.recurrent.parameters(), before, strict=True)
                )
            ).item()
    assert steps[1e-4] == pytest.approx(1e-4, rel=1e-3)
    assert steps[0.0] > 100 * steps[1e-4]


def test_epoch_batches_ends_an_epoch_after_that_many_steps(config):
    train = split(200, 0)  # 25 batches of 8
    steps, tokens = {}, {}
    for cap in (0, 3):
        run = trainer(with_train(config, epoch_batches=cap, crop_share=0.0), epochs=1)
        tokens[cap] = run.train_epoch(train, 1).tokens
        steps[cap] = {int(s["step"]) for s in run.optimizer.state.values()}
    assert steps == {0: {25}, 3: {3}}
    assert 0 < tokens[3] < tokens[0] / 4


def test_the_ngram_path_is_nb_weighted_logistic_regression_with_c_chosen_on_validation(config):
    train, val = encoded(300, 0), encoded(100, 1)
    table = count_table(train)
    bags = binary_bags(train)
    model = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
    (prior, chosen), scores = exact_fits.fit_ngram_path(
        model, table, train, val, [0.01, 0.1, 1.0], [0.0], ALL, seed=0
    )
    assert prior == 0.0 and set(scores) == {(0.0, 0.01), (0.0, 0.1), (0.0, 1.0)}
    assert scores[prior, chosen] == max(scores.values())

    ratios = log_count_ratios(table)
    scaled = bags * ratios
    scaled /= np.linalg.norm(scaled, axis=1, keepdims=True)
    reference = LogisticRegression(C=chosen, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(
        scaled, train.labels
    )
    weights = model.ngrams.weights.weight.detach().squeeze(1).double().numpy()
    np.testing.assert_allclose(weights, reference.coef_[0] * ratios, atol=2e-3)
    val_bags = binary_bags(val) * ratios
    val_bags /= np.linalg.norm(val_bags, axis=1, keepdims=True)
    logits = (
        model.ngrams(torch.from_numpy(val.ngram_ids).long(), torch.from_numpy(val.ngram_offsets))
        .detach()
        .numpy()
    )
    np.testing.assert_allclose(logits, reference.decision_function(val_bags), atol=2e-3)


def test_the_bag_matrix_normalises_each_row_and_leaves_an_empty_bag_empty_even_last(monkeypatch):
    monkeypatch.setattr(encoding, "BLOCK_ROWS", 2)  # rows normalised in blocks, as a large split is
    bags = EncodedSplit(
        np.zeros((4, 1), np.int32),
        np.ones(4, np.int32),
        np.zeros(4, np.int8),
        np.array([0, 1, 1, 2], np.int32),
        np.array([0, 2, 2, 4, 4]),
    )
    matrix = exact_fits.bag_matrix(bags, np.array([3.0, 4.0, 2.0]))
    expected = [[0.6, 0.8, 0], [0, 0, 0], [0, 4 / 20**0.5, 2 / 20**0.5], [0, 0, 0]]
    np.testing.assert_allclose(matrix.to_dense().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(linear.transposed(matrix).to_dense().numpy().T, expected, rtol=1e-6)


def test_a_prior_pulls_the_regression_weights_toward_it_instead_of_toward_zero():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 6))
    labels = (
        features @ np.array([2.0, -1.0, 0.5, 0.0, 0.0, 1.0]) + rng.normal(size=200) > 0
    ).astype(float)
    C = 0.05
    fits = {
        prior: linear.fit(torch.from_numpy(features), labels, C, intercept=False, prior=prior)
        for prior in (0.0, 1.5)
    }
    for prior, fitted in fits.items():
        weights = fitted.weight.numpy()
        gradient = C * features.T @ (1 / (1 + np.exp(-features @ weights)) - labels) + (
            weights - prior
        )
        # the optimum of C*logloss + |w - prior|^2/2
        np.testing.assert_allclose(gradient, 0.0, atol=1e-5)
    assert (fits[1.5].weight - fits[0.0].weight).min() > 0.1, "every weight moves toward the prior"
    tiny = linear.fit(torch.from_numpy(features), labels, 1e-9, intercept=False, prior=1.5)
    np.testing.assert_allclose(tiny.weight.numpy(), 1.5, atol=1e-6)


def test_the_ngram_path_keeps_the_prior_and_c_with_the_best_validation_auc(config):
    train, val = encoded(300, 0), encoded(100, 1)
    table = count_table(train)
    model = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
    kept, scores = exact_fits.fit_ngram_path(
        model, table, train, val, [0.01, 1.0], [0.0, 0.5, 1.0], ALL, seed=0
    )
    assert set(scores) == {(prior, C) for prior in (0.0, 0.5, 1.0) for C in (0.01, 1.0)}
    assert scores[kept] == max(scores.values())
    reference = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
    rescored = exact_fits.fit_ngram_path(reference, table, train, val, [kept[1]], [kept[0]], ALL, 0)
    assert rescored[1][kept] == scores[kept]
    np.testing.assert_allclose(
        model.ngrams.weights.weight.detach().numpy(),
        reference.ngrams.weights.weight.detach().numpy(),
        atol=1e-4,
    )


def test_the_ngram_logits_read_in_blocks_of_rows_are_those_of_the_whole_split(config, monkeypatch):
    train, val = encoded(300, 0), encoded(100, 1)
    model = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
    exact_fits.fit_ngram_path(model, count_table(train), train, val, [1.0], [0.5], ALL, seed=0)
    with torch.no_grad():
        whole = model.ngrams(
            torch.from_numpy(val.ngram_ids.astype(np.int64)), torch.from_numpy(val.ngram_offsets)
        )
    monkeypatch.setattr(encoding, "BLOCK_ROWS", 7)  # 15 blocks, the last one short
    blocked = training.ngram_logits(model.ngrams, val, torch.device("cpu"))
    assert blocked.shape == (100,) and np.array_equal(blocked, whole.double().numpy())


def test_amp_runs_an_lstm_in_bfloat16_on_cpu_too(config):
    config = config.model_copy(update={"model": config.model.model_copy(update={"cell": "lstm"})})
    seen = {}
    for amp in (False, True):
        run = trainer(with_train(config, amp=amp), epochs=1)
        dtypes = []
        run.model.recurrent.layers[0][0].register_forward_hook(
            lambda module, inputs, output, dtypes=dtypes: dtypes.append(output[0].dtype)
        )
        state = TrainState("fp", "run")
        run.fit(split(64, 0), encoded(32, 1), state, on_epoch=no_op)
        seen[amp] = set(dtypes)
        assert np.isfinite(state.history[0].train_loss), amp
    assert seen == {False: {torch.float32}, True: {torch.bfloat16}}


def test_a_large_split_fits_the_ngram_path_on_a_seeded_sample_of_it(config):
    train, val = encoded(300, 0), encoded(100, 1)
    table = count_table(train)

    def fitted(train, val, most, seed):
        model = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
        kept, scores = exact_fits.fit_ngram_path(
            model, table, train, val, [0.1, 1.0], [0.0], most, seed
        )
        return kept, scores, model.ngrams.weights.weight.detach().numpy()

    rows = np.sort(np.random.default_rng(7).choice(300, 120, replace=False))
    val_rows = np.sort(np.random.default_rng(7).choice(100, 60, replace=False))
    sampled = fitted(train, val, 120, 7)
    by_hand = fitted(train.rows(rows), val.rows(val_rows), ALL, 0)
    assert sampled[:2] == by_hand[:2]
    np.testing.assert_array_equal(sampled[2], by_hand[2])
    whole = fitted(train, val, ALL, 7)
    assert np.abs(whole[2] - sampled[2]).max() > 1e-3, "the sample is not the whole split"


def test_the_combiner_is_a_logistic_regression_on_the_validation_logits(config):
    run = trainer(config, epochs=1, ngram_features=VOCAB - 2)
    run.model.ngrams.set(torch.ones(VOCAB - 2), torch.linspace(-1, 1, VOCAB - 2))
    val = encoded(120, 1)
    scores = run.validate(val)
    recurrent = training.logits_in_row_order(
        run.scored, Batcher(val), 64, torch.device("cpu"), amp=False
    )
    ngram = (
        run.model.ngrams(
            torch.from_numpy(val.ngram_ids).long(), torch.from_numpy(val.ngram_offsets)
        )
        .detach()
        .numpy()
    )
    features = np.stack([recurrent, ngram], axis=1)
    reference = LogisticRegression(C=exact_fits.COMBINER_C, tol=1e-10, max_iter=10_000).fit(
        features, val.labels
    )
    np.testing.assert_allclose(
        run.model.combine.weight.detach().numpy()[0], reference.coef_[0], rtol=1e-2
    )
    assert scores["accuracy"] == pytest.approx(np.mean(reference.predict(features) == val.labels))
    assert scores["recurrent_accuracy"] == pytest.approx(np.mean((recurrent > 0) == val.labels))


def test_a_path_that_would_get_a_negative_weight_is_left_out_of_the_combiner(config):
    model = SentimentClassifier(VOCAB, VOCAB - 2, config.model)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    useful = (labels * 2 - 1) * 2.0 + rng.normal(size=200)
    misleading = -useful + rng.normal(size=200)  # would get a negative weight
    combined = exact_fits.fit_combiner(model, np.stack([misleading, useful], axis=1), labels)
    weights = model.combine.weight.detach().numpy()[0]
    assert weights[0] == 0 and weights[1] > 0
    assert np.mean((combined > 0) == labels) == pytest.approx(
        np.mean((useful > 0) == labels), abs=0.02
    )


def test_weight_averaging_warms_up_then_keeps_the_moving_average_of_every_step(tmp_path, config):
    decay = 0.7
    train, val = split(48, 0), encoded(16, 1)
    run = trainer(with_train(config, ema_decay=decay), 1)
    steps = []
    run.optimizer.register_step_post_hook(
        lambda optimizer, args, kwargs: steps.append(
            [p.detach().clone() for p in run.model.recurrent.parameters()]
        )
    )
    state = run.fit(train, val, TrainState("fp", "run"), on_epoch=no_op)

    assert len(steps) == 6
    expected = steps[0]
    for step, snapshot in enumerate(steps[1:], start=1):
        rate = min(decay, (1 + step) / (10 + step))
        expected = [rate * e + (1 - rate) * s for e, s in zip(expected, snapshot, strict=True)]
    names = [name for name, _ in run.model.recurrent.named_parameters()]
    for name, want, got in zip(names, expected, run.scored.parameters(), strict=True):
        torch.testing.assert_close(got, want, msg=name)
        torch.testing.assert_close(state.best_state[f"recurrent.{name}"], want, msg=name)
    assert not torch.equal(run.model.recurrent.head.weight, run.scored.head.weight), (
        "raw weights go on unaveraged"
    )
    recurrent = training.logits_in_row_order(
        run.scored, Batcher(val), 32, torch.device("cpu"), amp=False
    )
    assert state.history[0].val_recurrent_accuracy == np.mean((recurrent > 0) == val.labels), (
        "validation scores the averaged weights"
    )


def test_a_short_run_is_not_held_near_its_initial_weights(config):
    """Averaging with decay 0.997 over 15 steps alone would keep 96% of the initial weights."""
    run = trainer(with_train(config, ema_decay=0.997), 1)
    initial = [p.detach().clone() for p in run.model.recurrent.parameters()]
    run.fit(split(120, 0), encoded(16, 1), TrainState("fp", "run"), on_epoch=no_op)

    def distance(params):
        return torch.sqrt(
            sum(((p - i) ** 2).sum() for p, i in zip(params, initial, strict=True))
        ).item()

    assert distance(run.scored.parameters()) > 0.5 * distance(run.model.recurrent.parameters())


class Killed(Exception):
    """Stands for a kill after the first epoch's checkpoint."""


@pytest.mark.parametrize(
    "ema_decay, schedule", [(0.0, "constant"), (0.9, "constant"), (0.9, "one_cycle")]
)
def test_resume_continues_to_the_same_weights_as_an_uninterrupted_run(
    tmp_path, config, ema_decay, schedule
):
    config = with_train(config, ema_decay=ema_decay, schedule=schedule)
    train, val = split(120, 0), encoded(30, 1)
    whole = trainer(config, epochs=3)
    whole_state = whole.fit(train, val, TrainState("fp", "run"), on_epoch=no_op)

    def save_then_die(result, state):
        part.save(tmp_path / "b.pt", state)
        raise Killed

    part = trainer(config, epochs=3)
    with pytest.raises(Killed):
        part.fit(train, val, TrainState("fp", "run"), on_epoch=save_then_die)
    rest = trainer(config, epochs=3)
    rest_state = rest.fit(train, val, rest.resume(tmp_path / "b.pt", "fp"), on_epoch=no_op)

    assert [h.val_loss for h in rest_state.history] == [h.val_loss for h in whole_state.history]
    for name, value in whole.model.state_dict().items():
        assert torch.equal(value, rest.model.state_dict()[name]), name
    for name, value in whole.scored.state_dict().items():
        assert torch.equal(value, rest.scored.state_dict()[name]), name


def rates_of_every_step(config, schedule: str, epochs: int, reviews: int) -> list[float]:
    """The learning rate each optimizer step ran with, over a run of ``reviews`` (batches of 8)."""
    run = trainer(with_train(config, schedule=schedule, lr=0.01), epochs=epochs)
    rates = []
    run.optimizer.register_step_pre_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"])
    )
    run.fit(split(reviews, 0), encoded(16, 1), TrainState("fp", "run"), on_epoch=no_op)
    return rates


def test_one_cycle_rises_to_the_peak_then_anneals_to_zero_over_the_whole_run(config):
    rates = rates_of_every_step(config, "one_cycle", epochs=4, reviews=80)

    assert len(rates) == 40
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(0.01 / 25) and rates[peak] == pytest.approx(0.01)
    assert peak == 4, "a tenth of the steps rise"
    assert all(a < b for a, b in zip(rates[:peak], rates[1 : peak + 1], strict=True))
    assert all(a > b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))
    assert rates[-1] < 0.01 * 0.01


def test_the_constant_schedule_keeps_the_configured_rate(config):
    assert rates_of_every_step(config, "constant", epochs=2, reviews=40) == [0.01] * 10


def test_a_checkpoint_of_other_params_or_data_is_not_resumed(tmp_path, config):
    run = trainer(config, epochs=1)
    run.fit(
        split(40, 0),
        encoded(10, 1),
        TrainState("fingerprint-a", "run"),
        on_epoch=checkpointing(run, tmp_path / "c.pt"),
    )
    assert trainer(config, epochs=2).resume(tmp_path / "c.pt", "fingerprint-b") is None
    assert trainer(config, epochs=2).resume(tmp_path / "c.pt", "fingerprint-a") is not None


def test_crop_windows_cut_contiguous_windows_of_the_rows_own_tokens():
    from rnn_sentiment.model.batching import CROP_MAX_TOKENS, crop_windows

    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, 200)
    ids = torch.zeros((200, 60), dtype=torch.long)
    for row, length in enumerate(lengths):
        ids[row, :length] = torch.arange(2, 2 + length) + 100 * row
    batch = Batch(
        np.arange(200), ids, torch.from_numpy(lengths), torch.zeros(200), int(lengths.sum())
    )
    cropped_batch = crop_windows(batch, lengths, 0.5, np.random.default_rng(1))
    cropped, host = cropped_batch.ids, cropped_batch.lengths.numpy()
    assert cropped_batch.tokens == host.sum()
    changed = host != lengths
    assert 60 < changed.sum() < 140 and (host[changed] <= CROP_MAX_TOKENS).all()
    for row in range(200):
        kept = cropped[row, : host[row]]
        original = ids[row, : lengths[row]].tolist()
        start = original.index(int(kept[0]))
        assert kept.tolist() == original[start : start + host[row]], "a contiguous window"
        assert (cropped[row, host[row] :] == 0).all(), "padding after it"
    again = crop_windows(batch, lengths, 0.5, np.random.default_rng(1))
    assert torch.equal(again.ids, cropped), "same rng, same crops"
    untouched = crop_windows(batch, lengths, 0.0, np.random.default_rng(1))
    assert torch.equal(untouched.ids, ids) and (untouched.lengths.numpy() == lengths).all()
