"""Logistic regression fitted exactly, full batch, for the n-gram path and for the combiner.

The objective is sklearn's, ``C * sum(log-loss) + ||w - prior||^2 / 2`` (the bias unpenalised),
divided by n, minimised with torch's L-BFGS and a strong-Wolfe line search. Gradients are two matrix-vector
products, so the design matrix may be a sparse CSR tensor of millions of features; nothing is
random, so a fit is deterministic on CPU.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse
import torch

from rnn_sentiment.evaluation.metrics import roc_auc


@dataclass(frozen=True)
class Fit:
    weight: torch.Tensor  # [features]
    bias: float
    C: float
    prior: float = 0.0

    def logits(self, features: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return (features @ self.weight + self.bias).double().numpy()


def transposed(features: torch.Tensor) -> torch.Tensor:
    """The transpose in the same layout (CSR for a sparse matrix), built once per matrix. A sparse
    one goes through scipy's CSR-to-CSC conversion, one O(entries) pass with the same index
    type, where torch's would sort int64 coordinates (several times the matrix in memory)."""
    if features.layout != torch.sparse_csr:
        return features.t().contiguous()
    rows, columns = features.shape
    by_column = scipy.sparse.csr_matrix(
        (
            features.values().numpy(),
            features.col_indices().numpy(),
            features.crow_indices().numpy(),
        ),
        shape=(rows, columns),
    ).tocsc()
    return torch.sparse_csr_tensor(
        torch.from_numpy(by_column.indptr),
        torch.from_numpy(by_column.indices),
        torch.from_numpy(by_column.data),
        size=(columns, rows),
        check_invariants=False,
    )


def fit(
    features: torch.Tensor,
    labels: np.ndarray,
    C: float,
    features_t: torch.Tensor | None = None,
    start: Fit | None = None,
    intercept: bool = True,
    prior: float = 0.0,
    max_iter: int = 500,
) -> Fit:
    """L2-regularised logistic regression of ``labels`` (0/1) on ``features`` [n, d], with a bias
    unless ``intercept`` is false. The penalty pulls every weight toward ``prior`` (0: plain
    ridge); the fit starts there, or from ``start`` (along a grid of C, say)."""
    n, d = features.shape
    dtype = features.dtype
    features_t = transposed(features) if features_t is None else features_t
    y = torch.from_numpy(np.asarray(labels, dtype=np.float64)).to(dtype)
    theta = torch.zeros(d + 1, dtype=dtype)
    theta[:d] = prior
    if start is not None:
        theta[:d], theta[d] = start.weight, start.bias
    theta.requires_grad_(True)
    penalty = 1.0 / (C * n)

    def closure() -> torch.Tensor:
        with torch.no_grad():
            w, b = theta[:d], theta[d]
            z = features @ w + b
            pulled = w - prior
            loss = (torch.nn.functional.softplus(z) - y * z).mean() + 0.5 * penalty * torch.dot(
                pulled, pulled
            )
            residual = (torch.sigmoid(z) - y) / n
            grad = torch.empty_like(theta)
            grad[:d] = features_t @ residual + penalty * pulled
            grad[d] = residual.sum() if intercept else 0.0
            theta.grad = grad
        return loss

    optimizer = torch.optim.LBFGS(
        [theta],
        lr=1.0,
        max_iter=max_iter,
        max_eval=2 * max_iter,
        tolerance_grad=1e-7,
        tolerance_change=1e-10,
        history_size=20,
        line_search_fn="strong_wolfe",
    )
    optimizer.step(closure)
    theta = theta.detach()
    return Fit(theta[:d].clone(), float(theta[d]), C, prior)


def fit_on_grid(
    train: torch.Tensor,
    train_labels: np.ndarray,
    val: torch.Tensor,
    val_labels: np.ndarray,
    grid: list[float],
    priors: list[float] = (0.0,),
    intercept: bool = True,
) -> tuple[Fit, dict[tuple[float, float], float]]:
    """One fit per (prior, C), C ascending within each prior and warm-started from the last; keep
    the fit whose validation ROC AUC is highest (ties: the smaller prior, then the smaller C).
    Returns the fit and every (prior, C)'s validation AUC."""
    train_t = transposed(train)
    scores, best = {}, None
    for prior in sorted(priors):
        last = None
        for C in sorted(grid):
            last = fit(
                train, train_labels, C, train_t, start=last, intercept=intercept, prior=prior
            )
            scores[prior, C] = roc_auc(np.asarray(val_labels), last.logits(val))
            if best is None or scores[prior, C] > scores[best.prior, best.C]:
                best = last
    return best, scores
