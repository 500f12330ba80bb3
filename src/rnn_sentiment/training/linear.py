"""Logistic regression fitted exactly, full batch, for the n-gram path and for the combiner.

The objective is sklearn's: ``C * sum(log-loss) + ||w||^2 / 2`` (the bias unpenalised), divided
by n, minimised with torch's L-BFGS and a strong-Wolfe line search. Gradients are two matrix-vector
products, so the design matrix may be a sparse CSR tensor of millions of features; nothing is
random, so a fit is deterministic on CPU.
"""

from dataclasses import dataclass

import numpy as np
import torch

from rnn_sentiment.evaluation.metrics import roc_auc


@dataclass(frozen=True)
class Fit:
    weight: torch.Tensor  # [features]
    bias: float
    C: float

    def logits(self, features: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return (features @ self.weight + self.bias).double().numpy()


def transposed(features: torch.Tensor) -> torch.Tensor:
    """The transpose in the same layout (CSR for a sparse matrix), built once per matrix."""
    if features.layout == torch.sparse_csr:
        return features.to_sparse_coo().t().coalesce().to_sparse_csr()
    return features.t().contiguous()


def fit(features: torch.Tensor, labels: np.ndarray, C: float, features_t: torch.Tensor | None = None,
        start: Fit | None = None, intercept: bool = True, max_iter: int = 500) -> Fit:
    """L2-regularised logistic regression of ``labels`` (0/1) on ``features`` [n, d], with a bias
    unless ``intercept`` is false; ``start`` warm-starts it (along a grid of C, say)."""
    n, d = features.shape
    dtype = features.dtype
    features_t = transposed(features) if features_t is None else features_t
    y = torch.from_numpy(np.asarray(labels, dtype=np.float64)).to(dtype)
    theta = torch.zeros(d + 1, dtype=dtype)
    if start is not None:
        theta[:d], theta[d] = start.weight, start.bias
    theta.requires_grad_(True)
    penalty = 1.0 / (C * n)

    def closure() -> torch.Tensor:
        with torch.no_grad():
            w, b = theta[:d], theta[d]
            z = features @ w + b
            loss = (torch.nn.functional.softplus(z) - y * z).mean() + 0.5 * penalty * torch.dot(w, w)
            residual = (torch.sigmoid(z) - y) / n
            grad = torch.empty_like(theta)
            grad[:d] = features_t @ residual + penalty * w
            grad[d] = residual.sum() if intercept else 0.0
            theta.grad = grad
        return loss

    optimizer = torch.optim.LBFGS([theta], lr=1.0, max_iter=max_iter, max_eval=2 * max_iter,
                                  tolerance_grad=1e-7, tolerance_change=1e-10, history_size=20,
                                  line_search_fn="strong_wolfe")
    optimizer.step(closure)
    theta = theta.detach()
    return Fit(theta[:d].clone(), float(theta[d]), C)


def fit_on_grid(train: torch.Tensor, train_labels: np.ndarray, val: torch.Tensor, val_labels: np.ndarray,
                grid: list[float], intercept: bool = True) -> tuple[Fit, dict[float, float]]:
    """One fit per C (ascending, each warm-started from the last); keep the C whose validation
    ROC AUC is highest (ties: the smaller C). Returns the fit and every C's validation AUC."""
    train_t = transposed(train)
    scores, best, last = {}, None, None
    for C in sorted(grid):
        last = fit(train, train_labels, C, train_t, start=last, intercept=intercept)
        scores[C] = roc_auc(np.asarray(val_labels), last.logits(val))
        if best is None or scores[C] > scores[best.C]:
            best = last
    return best, scores
