"""Figures for MLflow (``mlflow.log_figure``); DVC renders its own plots from the CSV files beside them.

Plain ``Figure`` objects, not pyplot's: nothing global to close, no GUI backend to select."""

import pandas as pd
from matplotlib.figure import Figure


def history(frame: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(9, 3.5), dpi=100, layout="tight")
    loss, accuracy = figure.subplots(1, 2)
    for split in ("train", "val"):
        loss.plot(frame["epoch"], frame[f"{split}_loss"], marker="o", label=split)
        accuracy.plot(frame["epoch"], frame[f"{split}_accuracy"], marker="o", label=split)
    loss.set(title="loss", xlabel="epoch")
    accuracy.set(title="accuracy", xlabel="epoch")
    loss.legend()
    return figure


def confusion(rows: pd.DataFrame) -> Figure:
    table = pd.crosstab(rows["actual"], rows["predicted"])
    figure = Figure(figsize=(4, 3.5), dpi=100, layout="tight")
    axes = figure.subplots()
    axes.imshow(table.to_numpy(), cmap="Blues")
    axes.set_xticks(range(table.shape[1]), table.columns)
    axes.set_yticks(range(table.shape[0]), table.index)
    axes.set(xlabel="predicted", ylabel="actual", title="confusion matrix")
    for (i, j), value in pd.DataFrame(table.to_numpy()).stack().items():
        axes.text(j, i, str(value), ha="center", va="center")
    return figure


def curve(frame: pd.DataFrame, x: str, y: str, title: str) -> Figure:
    figure = Figure(figsize=(4, 4), dpi=100, layout="tight")
    axes = figure.subplots()
    axes.plot(frame[x], frame[y])
    axes.set(xlabel=x, ylabel=y, title=title, xlim=(0, 1), ylim=(0, 1.01))
    return figure
