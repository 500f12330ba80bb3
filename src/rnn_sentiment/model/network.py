"""The classifier: a recurrent path and an NB-weighted n-gram path, combined by a logistic
regression fitted on validation.

``RecurrentPath``: embedding -> (bi)directional RNN/GRU/LSTM stack -> masked pooling -> a logit.
Padding is never read as input. Batches are right-padded, so a forward cell reaches every real
token before any padding. The backward direction runs a forward cell over each sequence reversed
*within its own length* (padding stays at the end), and pooling masks padded positions out.
A review therefore gets the same logit whatever padding surrounds it in a batch, while the
whole batch still goes through one fused cuDNN/oneDNN call per direction: measured faster than
``pack_padded_sequence`` on CPU and GPU alike (benchmarks/train_throughput.py).

``NgramPath``: a linear classifier over the review's binary bag of word 1-3-grams, the whole
review; its weights are NB-scaled logistic regression weights (Wang & Manning 2012), fitted
exactly by training/linear.py, not by the epoch loop.

``SentimentClassifier`` holds both and ``combine``, a logistic regression over the paths' logits,
fitted on the validation split (docs/design.md says why and what each part measured).
"""

import torch
from torch import nn

from rnn_sentiment.core.params import ModelParams
from rnn_sentiment.text.vocab import PAD_ID

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
# The order of ``path_logits``' columns; the n-gram path's only when it is on.
PATHS = ("recurrent", "ngram")


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first ``length`` steps, leaving the padding after them in place."""
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def real_steps(width: int, lengths: torch.Tensor) -> torch.Tensor:
    """[batch, width] mask, True where a step holds a real token rather than padding."""
    return torch.arange(width, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


class RecurrentPath(nn.Module):
    """Embedding -> (bi)directional RNN/GRU/LSTM stack -> masked pooling -> one logit per review."""

    def __init__(self, vocab_size: int, config: ModelParams):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embed_dim, padding_idx=PAD_ID)
        cell = CELLS[config.cell]
        directions = 2 if config.bidirectional else 1
        self.layers = nn.ModuleList()
        width = config.embed_dim
        for _ in range(config.num_layers):
            self.layers.append(
                nn.ModuleList(
                    cell(width, config.hidden_dim, batch_first=True) for _ in range(directions)
                )
            )
            width = config.hidden_dim * directions
        self.dropout = nn.Dropout(config.dropout)
        pooled = width * (2 if config.pooling == "max_mean" else 1)
        self.head = nn.Linear(pooled, 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``ids`` [batch, time] right-padded, ``lengths`` [batch] >= 1 -> logits [batch]."""
        lengths = lengths.to(ids.device)
        x = self.dropout(self.embedding(ids))
        for i, directions in enumerate(self.layers):
            outputs = [directions[0](x)[0]]
            if len(directions) == 2:
                backward = directions[1](reverse_within_length(x, lengths))[0]
                outputs.append(reverse_within_length(backward, lengths))
            x = torch.cat(outputs, dim=-1) if len(outputs) == 2 else outputs[0]
            if i < len(self.layers) - 1:
                x = self.dropout(x)
        return self.head(self.dropout(self._pool(x, lengths))).squeeze(-1)

    def _pool(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = real_steps(x.size(1), lengths).unsqueeze(-1)
        pooling = self.config.pooling
        if pooling == "last":
            last = x.gather(1, (lengths - 1).view(-1, 1, 1).expand(-1, 1, x.size(2))).squeeze(1)
            if not self.config.bidirectional:
                return last
            half = self.config.hidden_dim
            return torch.cat([last[:, :half], x[:, 0, half:]], dim=-1)
        parts = []
        if pooling in ("max", "max_mean"):
            parts.append(x.masked_fill(~mask, float("-inf")).amax(dim=1))
        if pooling in ("mean", "max_mean"):
            parts.append((x * mask).sum(dim=1) / lengths.unsqueeze(1).to(x.dtype))
        return torch.cat(parts, dim=-1)


class NgramPath(nn.Module):
    """A logistic regression over a review's n-grams, each worth its NB ratio r, the vector
    normalised to unit length: sum(w * r) / sqrt(sum(r^2)) over the n-grams the review holds. The
    normalisation makes a three-word text as decided as a long review. Reviews come as one flat
    tensor of n-gram ids and CSR offsets [batch + 1]; a review with none gets 0."""

    def __init__(self, features: int):
        super().__init__()
        self.weights = nn.EmbeddingBag(features, 1, mode="sum", include_last_offset=True)  # w * r
        nn.init.zeros_(self.weights.weight)
        self.register_buffer("squared_ratios", torch.zeros(features, 1))

    def set(self, ratios: torch.Tensor, weights: torch.Tensor) -> None:
        """The NB ratios and the regression's weights, one per n-gram."""
        with torch.no_grad():
            self.weights.weight.copy_((weights.double() * ratios.double()).float().unsqueeze(1))
            self.squared_ratios.copy_((ratios.double() ** 2).float().unsqueeze(1))

    def forward(self, ngram_ids: torch.Tensor, ngram_offsets: torch.Tensor) -> torch.Tensor:
        total = self.weights(ngram_ids, ngram_offsets).squeeze(-1)
        norm = (
            nn.functional.embedding_bag(
                ngram_ids, self.squared_ratios, ngram_offsets, mode="sum", include_last_offset=True
            )
            .squeeze(-1)
            .sqrt()
        )
        return total / norm.clamp(min=1e-12)


class SentimentClassifier(nn.Module):
    """The recurrent path, the n-gram path (when the n-gram table has rows) and ``combine``, a
    logistic regression over their logits; it starts as their mean."""

    def __init__(self, vocab_size: int, ngram_features: int, config: ModelParams):
        super().__init__()
        self.config = config
        self.recurrent = RecurrentPath(vocab_size, config)
        self.ngrams = NgramPath(ngram_features) if ngram_features else None
        paths = 2 if self.ngrams is not None else 1
        self.combine = nn.Linear(paths, 1)
        with torch.no_grad():
            self.combine.weight.fill_(1 / paths)
            self.combine.bias.zero_()

    @property
    def ngram_features(self) -> int:
        return self.ngrams.weights.num_embeddings if self.ngrams is not None else 0

    def path_logits(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        ngram_ids: torch.Tensor,
        ngram_offsets: torch.Tensor,
    ) -> torch.Tensor:
        """[batch, paths]: the recurrent path's logits, then the n-gram path's."""
        paths = [self.recurrent(ids, lengths)]
        if self.ngrams is not None:
            paths.append(self.ngrams(ngram_ids, ngram_offsets))
        return torch.stack(paths, dim=1)

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        ngram_ids: torch.Tensor,
        ngram_offsets: torch.Tensor,
    ) -> torch.Tensor:
        """Logits [batch]. ``ids`` [batch, time] right-padded, ``lengths`` [batch] >= 1 (the
        recurrent path's view, truncated to encode.max_len); ``ngram_ids`` and ``ngram_offsets``
        the whole review's bag (text/ngrams.py)."""
        return self.combine(self.path_logits(ids, lengths, ngram_ids, ngram_offsets)).squeeze(-1)
