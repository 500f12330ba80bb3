"""Embedding -> (bi)directional RNN/GRU/LSTM stack -> masked pooling -> linear logit.

Padding is never read as input. Batches are right-padded, so a forward cell reaches every real
token before any padding. The backward direction runs a forward cell over each sequence reversed
*within its own length* (padding stays at the end), and pooling masks padded positions out.
A review therefore gets the same prediction whatever padding surrounds it in a batch, while the
whole batch still goes through one fused cuDNN/oneDNN call per direction: measured faster than
``pack_padded_sequence`` on CPU and GPU alike (see benchmarks/).
"""

import torch
from torch import nn

from rnn_sentiment.params import ModelParams
from rnn_sentiment.vocab import PAD_ID

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first ``length`` steps, leaving the padding after them in place."""
    steps = torch.arange(x.size(1), device=x.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


class RNNClassifier(nn.Module):
    def __init__(self, vocab_size: int, config: ModelParams):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(vocab_size, config.embed_dim, padding_idx=PAD_ID)
        cell = CELLS[config.cell]
        directions = 2 if config.bidirectional else 1
        self.layers = nn.ModuleList()
        width = config.embed_dim
        for _ in range(config.num_layers):
            self.layers.append(nn.ModuleList(
                cell(width, config.hidden_dim, batch_first=True) for _ in range(directions)))
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
        mask = (torch.arange(x.size(1), device=x.device).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1)
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
