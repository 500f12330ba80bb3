"""Train-stage epoch loop vs a bare PyTorch training step, side by side on the same batches.

The epoch loop trains the recurrent path (the n-gram path is fitted once, in seconds, before it).
The bare step gets its batches pre-built in memory and does nothing but forward, backward,
clip and step; the stage loop (rnn_sentiment.training.loop.Trainer) does its real work: batching from
the encoded arrays, progress bar, loss/accuracy bookkeeping. The ratio is the share of the bare
step's throughput that the stage keeps. Also compares batching strategies for the same network:
length-bucketed (the stage's), random pad-to-longest, and pack_padded_sequence.

    python benchmarks/train_throughput.py --reviews 3000          # on data/encoded (run `dvc repro encode`)
"""

import argparse
import time

import numpy as np
import torch
from param_overrides import load_with_overrides
from torch import nn

from rnn_sentiment.core import cli, params, paths
from rnn_sentiment.model import runtime
from rnn_sentiment.model.batching import Batcher, crop_windows
from rnn_sentiment.model.network import RecurrentPath, SentimentClassifier
from rnn_sentiment.text import encoding
from rnn_sentiment.training import loop


def subset(split: encoding.EncodedSplit, count: int, seed: int) -> encoding.EncodedSplit:
    return split.rows(np.sort(np.random.default_rng(seed).permutation(len(split.lengths))[:count]))


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bare_epoch(model, optimizer, batches, config, device, averaged=None) -> float:
    """Forward, backward, clip, step (and the weight average's update, when on) over pre-built
    device batches; returns seconds."""
    model.train()
    sync(device)
    started = time.perf_counter()
    for ids, lengths, labels in batches:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp):
            logits = model(ids, lengths).float()
        loss = nn.functional.binary_cross_entropy_with_logits(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.clip_grad_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
        optimizer.step()
        if averaged:
            averaged.update_parameters(model)
    sync(device)
    return time.perf_counter() - started


def stage_epoch(trainer: loop.Trainer, data: Batcher, epoch: int, device) -> float:
    sync(device)
    started = time.perf_counter()
    trainer.train_epoch(data, epoch)
    sync(device)
    return time.perf_counter() - started


def stage_batches(data: Batcher, config: params.Params) -> list:
    """Exactly the stage's epoch-1 batches, short-text crops included."""
    crops = np.random.default_rng([config.seed, 1, 0])
    out = []
    for batch in data.batches(
        config.train.batch_size, seed=config.seed * 100_003 + 1, shuffle=True
    ):
        if config.train.crop_share > 0:
            batch = crop_windows(
                batch, data.length_array[batch.rows], config.train.crop_share, crops
            )
        out.append((batch.ids, batch.lengths, batch.labels))
    return out


def strategy_batches(data: Batcher, strategy: str, batch_size: int, seed: int):
    """Same reviews, three ways of batching them."""
    if strategy == "bucketed":
        batches = data.batches(batch_size, seed=seed, shuffle=True)
    else:
        order = np.random.default_rng(seed).permutation(len(data))
        batches = (
            data.gather(order[start : start + batch_size])
            for start in range(0, len(order), batch_size)
        )
    return [(batch.ids, batch.lengths, batch.labels) for batch in batches]


class PackedBiRNN(nn.Module):
    """The textbook alternative: one bidirectional cuDNN RNN over pack_padded_sequence."""

    def __init__(self, vocab_size: int, config: params.ModelParams):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, config.embed_dim, padding_idx=0)
        cell = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[config.cell]
        self.rnn = cell(
            config.embed_dim,
            config.hidden_dim,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
        )
        self.head = nn.Linear(config.hidden_dim * (2 if config.bidirectional else 1), 1)

    def forward(self, ids, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], batch_first=True)
        return self.head(out.amax(dim=1)).squeeze(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reviews", type=int, default=3000, help="training reviews per measured epoch"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/stage rounds")
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override params.yaml, e.g. train.batch_size=256 train.amp=true",
    )
    parser.add_argument("--skip-strategies", action="store_true")
    args = parser.parse_args()

    config = load_with_overrides(args.set)
    device = runtime.choose_device(args.device)
    runtime.configure_threads(config.train.threads)
    vocab_size = sum(1 for _ in open(paths.VOCAB, encoding="utf-8")) - 1
    data = Batcher(subset(encoding.load(paths.ENCODED, "train"), args.reviews, config.seed), device)
    tokens = int(data.length_array.sum())
    where = (
        torch.cuda.get_device_name()
        if device.type == "cuda"
        else f"{torch.get_num_threads()} threads"
    )
    print(
        f"device {device} ({where}), "
        f"{len(data)} reviews, {tokens:,} real tokens, model {config.model.model_dump()}, "
        f"batch {config.train.batch_size}, amp {config.train.amp}"
    )

    torch.manual_seed(config.seed)
    model = SentimentClassifier(vocab_size, 0, config.model).to(device)
    trainer = loop.Trainer(model, config.train, config.seed, device)
    batches = stage_batches(data, config)
    # as the stage counts them
    cropped_tokens = sum(int(lengths.sum()) for _, lengths, _ in batches)
    bare_epoch(model.recurrent, trainer.optimizer, batches[:3], config.train, device)  # warm-up
    bare_times, stage_times = [], []
    for _ in range(args.rounds):
        bare_times.append(
            bare_epoch(
                model.recurrent, trainer.optimizer, batches, config.train, device, trainer.averaged
            )
        )
        stage_times.append(stage_epoch(trainer, data, 1, device))
    bare, stage = cropped_tokens / min(bare_times), cropped_tokens / min(stage_times)
    print(f"bare step:        {bare:12,.0f} tokens/s")
    print(f"train stage loop: {stage:12,.0f} tokens/s")
    print(f"ratio stage/bare: {stage / bare:.3f}")

    if args.skip_strategies:
        return
    results = {}
    for name in ("bucketed", "pad_to_longest", "packed"):
        torch.manual_seed(config.seed)
        net = (
            PackedBiRNN(vocab_size, config.model)
            if name == "packed"
            else RecurrentPath(vocab_size, config.model)
        ).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=config.train.lr)
        # packing takes random batches as they come
        batching = "pad_to_longest" if name == "packed" else name
        chosen = strategy_batches(data, batching, config.train.batch_size, 7)
        bare_epoch(net, optimizer, chosen[:3], config.train, device)
        results[name] = tokens / bare_epoch(net, optimizer, chosen, config.train, device)
    for name, rate in results.items():
        print(
            f"batching {name:15s} {rate:12,.0f} tokens/s  ({rate / results['bucketed']:.2f}x bucketed)"
        )


if __name__ == "__main__":
    cli.run(main)
