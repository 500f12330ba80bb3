"""PNG figures for MLflow; DVC renders its own plots from the CSV files beside them."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def history(frame: pd.DataFrame, path: Path) -> Path:
    figure, (loss, accuracy) = plt.subplots(1, 2, figsize=(9, 3.5))
    for split in ("train", "val"):
        loss.plot(frame["epoch"], frame[f"{split}_loss"], marker="o", label=split)
        accuracy.plot(frame["epoch"], frame[f"{split}_accuracy"], marker="o", label=split)
    loss.set(title="loss", xlabel="epoch")
    accuracy.set(title="accuracy", xlabel="epoch")
    loss.legend()
    return _save(figure, path)


def confusion(rows: pd.DataFrame, path: Path) -> Path:
    table = pd.crosstab(rows["actual"], rows["predicted"])
    figure, axes = plt.subplots(figsize=(4, 3.5))
    axes.imshow(table.to_numpy(), cmap="Blues")
    axes.set_xticks(range(table.shape[1]), table.columns)
    axes.set_yticks(range(table.shape[0]), table.index)
    axes.set(xlabel="predicted", ylabel="actual", title="confusion matrix")
    for (i, j), value in pd.DataFrame(table.to_numpy()).stack().items():
        axes.text(j, i, str(value), ha="center", va="center")
    return _save(figure, path)


def curve(frame: pd.DataFrame, x: str, y: str, title: str, path: Path) -> Path:
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.plot(frame[x], frame[y])
    axes.set(xlabel=x, ylabel=y, title=title, xlim=(0, 1), ylim=(0, 1.01))
    return _save(figure, path)
