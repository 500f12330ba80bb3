"""Markdown for a pull request's job summary: what the change is worth against the base, from two
DVC revisions of the same pipeline (the CI runs the sample as experiments ci-base and ci-head).

    python -m tools.pr_summary ci-base ci-head >> "$GITHUB_STEP_SUMMARY"

A revision is a DVC experiment name (DVC keeps each experiment as the git ref
refs/exps/<baseline[:2]>/<baseline[2:]>/<name>) or any git rev. Its files are read with
``git show REV:path``: metrics.json, reports/predictions.csv, reports/behaviour.csv and
reports/plots/history.csv; all but metrics.json may be missing (a base from before they existed),
which the summary says. Output: test accuracy and ROC AUC with 95 % intervals, the paired
difference with McNemar's exact test (only on the same test rows: otherwise it refuses), the
behaviour pass rates side by side, and Mermaid ``xychart-beta`` charts of the validation curves.
"""

import argparse
import io
import json
import subprocess
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_sentiment.core import cli
from rnn_sentiment.core.errors import PipelineError, first_line
from rnn_sentiment.evaluation import intervals, paired

METRICS = "metrics.json"
PREDICTIONS = "reports/predictions.csv"
BEHAVIOUR = "reports/behaviour.csv"
HISTORY = "reports/plots/history.csv"
COLUMNS = {
    PREDICTIONS: ("id", "label", "probability"),
    BEHAVIOUR: ("capability", "kind", "text", "expected", "probability", "passed"),
    HISTORY: ("epoch", "val_loss", "val_accuracy"),
}
LEVEL = 0.05  # the promotion gate's default level (evaluate.promotion_level)
CURVES = (
    ("val_accuracy", "Validation accuracy per epoch"),
    ("val_loss", "Validation loss per epoch"),
)


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: what its files hold (None where a file is missing)."""

    name: str
    metrics: dict
    predictions: pd.DataFrame | None = None
    behaviour: pd.DataFrame | None = None
    history: pd.DataFrame | None = None


def resolve(rev: str) -> str:
    """The commit of a DVC experiment named ``rev``, else of the git rev ``rev``."""
    refs = git("for-each-ref", "--format=%(refname)", "refs/exps").split()
    named = [ref for ref in refs if len(ref.split("/")) == 5 and ref.split("/")[4] == rev]
    if len(named) > 1:
        raise PipelineError(f"{rev}: {len(named)} DVC experiments have this name; give a commit")
    try:
        return git("rev-parse", "--verify", "--quiet", f"{named[0] if named else rev}^{{commit}}")
    except PipelineError:
        raise PipelineError(f"{rev}: neither a DVC experiment nor a git commit here") from None


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode:
        raise PipelineError(f"git {' '.join(args)}: {first_line(result.stderr or 'failed')}")
    return result.stdout.strip()


def read(commit: str, path: str) -> str | None:
    """The file at ``path`` in ``commit``, None if the commit has no such file."""
    if subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{path}"], capture_output=True
    ).returncode:
        return None
    return git("show", f"{commit}:{path}")


def load(rev: str) -> Revision:
    commit = resolve(rev)
    return parse(rev, {path: read(commit, path) for path in (METRICS, *COLUMNS)})


def parse(name: str, texts: dict[str, str | None]) -> Revision:
    """A Revision from the files' texts; bad content is refused naming ``name:path``."""
    if texts.get(METRICS) is None:
        raise PipelineError(f"{name}:{METRICS}: missing; is {name} a run of the pipeline?")
    try:
        metrics = json.loads(texts[METRICS])
    except json.JSONDecodeError as error:
        raise PipelineError(f"{name}:{METRICS}: not JSON ({error})") from None
    missing = [
        key for key in ("accuracy", "roc_auc") if not isinstance(metrics.get(key), int | float)
    ]
    if missing:
        raise PipelineError(f"{name}:{METRICS}: no number for {', '.join(missing)}")
    frames = {path: table(name, path, texts.get(path)) for path in COLUMNS}
    predictions = frames[PREDICTIONS]
    if predictions is not None:
        check_predictions(f"{name}:{PREDICTIONS}", predictions)
    return Revision(name, metrics, predictions, frames[BEHAVIOUR], frames[HISTORY])


def table(name: str, path: str, text: str | None) -> pd.DataFrame | None:
    if text is None:
        return None
    where = f"{name}:{path}"
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PipelineError(f"{where}: not a CSV table ({first_line(error)})") from None
    missing = [column for column in COLUMNS[path] if column not in frame.columns]
    if missing:
        raise PipelineError(f"{where}: no column {', '.join(missing)}")
    numeric = {
        PREDICTIONS: ("id", "label", "probability"),
        HISTORY: ("epoch", "val_loss", "val_accuracy"),
    }
    for column in numeric.get(path, ()):
        if not pd.api.types.is_numeric_dtype(frame[column]) or frame[column].isna().any():
            raise PipelineError(f"{where}: column {column} holds a value that is not a number")
    if path == BEHAVIOUR and not frame["passed"].isin([True, False]).all():
        raise PipelineError(f"{where}: column passed holds a value other than True or False")
    return frame


def check_predictions(where: str, frame: pd.DataFrame) -> None:
    if not frame["label"].isin([0, 1]).all():
        raise PipelineError(f"{where}: column label holds a value other than 0 or 1")
    if not frame["probability"].between(0, 1).all():
        raise PipelineError(f"{where}: column probability holds a value outside [0, 1]")
    if frame["id"].duplicated().any():
        raise PipelineError(f"{where}: column id repeats an id")


def summary(base: Revision, change: Revision) -> str:
    """The whole summary: one markdown string ending in a newline."""
    parts = [
        "### What the change is worth (tools/pr_summary.py)",
        f"Base `{base.name}` against change `{change.name}`, each a run of the pipeline.",
        scores_table(base, change),
        paired_section(base, change),
        behaviour_section(base, change),
        curves_section(base, change),
    ]
    return "\n\n".join(parts) + "\n"


def scores_table(base: Revision, change: Revision) -> str:
    lines = [
        "#### Test accuracy and ROC AUC, 95 % intervals",
        "",
        f"| metric | base `{base.name}` | change `{change.name}` |",
        "|---|---|---|",
    ]
    scored = [with_intervals(revision) for revision in (base, change)]
    for metric in ("accuracy", "roc_auc"):
        lines.append(f"| {metric} | " + " | ".join(scored_cell(s, metric) for s in scored) + " |")
    return "\n".join(lines)


def with_intervals(revision: Revision) -> dict:
    """metrics.json's scores with their intervals: its own, else bootstrapped from its predictions."""
    metrics = dict(revision.metrics)
    keys = ("accuracy_ci_low", "accuracy_ci_high", "roc_auc_ci_low", "roc_auc_ci_high")
    if not all(key in metrics for key in keys) and revision.predictions is not None:
        frame = revision.predictions
        metrics.update(
            intervals.bootstrap_intervals(
                frame["label"].to_numpy(), frame["probability"].to_numpy()
            )
        )
    return metrics


def scored_cell(metrics: dict, metric: str) -> str:
    low, high = metrics.get(f"{metric}_ci_low"), metrics.get(f"{metric}_ci_high")
    interval = f"{low:.4f} to {high:.4f}" if low is not None and high is not None else "no interval"
    return f"{metrics[metric]:.4f} ({interval})"


def paired_section(base: Revision, change: Revision) -> str:
    lines = ["#### Paired difference on the same test reviews (change minus base)", ""]
    absent = [r.name for r in (base, change) if r.predictions is None]
    if absent:
        lines.append(
            f"No paired comparison: {' and '.join(f'`{n}`' for n in absent)} wrote no {PREDICTIONS}."
        )
        return "\n".join(lines)
    base_rows, change_rows = (r.predictions.sort_values("id") for r in (base, change))
    same = len(base_rows) == len(change_rows) and all(
        np.array_equal(base_rows[c].to_numpy(), change_rows[c].to_numpy()) for c in ("id", "label")
    )
    if not same:
        raise PipelineError(
            f"{base.name} and {change.name} were not scored on the same test rows "
            f"({PREDICTIONS}: ids or labels differ), so no paired comparison"
        )
    result = paired.compare(
        change_rows["label"].to_numpy(),
        change_rows["probability"].to_numpy(),
        base_rows["probability"].to_numpy(),
    )
    lines += ["| metric | difference | 95 % interval |", "|---|---:|---|"]
    for metric in ("accuracy", "roc_auc"):
        diff = getattr(result, f"{metric}_diff")
        low, high = (
            getattr(result, f"{metric}_diff_ci_low"),
            getattr(result, f"{metric}_diff_ci_high"),
        )
        lines.append(f"| {metric} | {diff:+.4f} | {low:+.4f} to {high:+.4f} |")
    verdict = (
        f"below {LEVEL}: unlikely to be chance alone"
        if result.mcnemar_p < LEVEL
        else f"not below {LEVEL}: this difference could be chance"
    )
    lines += [
        "",
        f"{len(change_rows):,} test reviews; only the change gets {result.candidate_only_right:,} right, "
        f"only the base {result.champion_only_right:,}. "
        f"McNemar's exact p = {result.mcnemar_p:.3g}, {verdict}.",
    ]
    return "\n".join(lines)


def behaviour_section(base: Revision, change: Revision) -> str:
    lines = ["#### Behaviour checks: pass rate per capability", ""]
    rates = [pass_rates(r.behaviour) for r in (base, change)]
    if not any(rates):
        lines.append(f"Neither revision wrote {BEHAVIOUR}.")
        return "\n".join(lines)
    lines += [
        f"| capability | base `{base.name}` | change `{change.name}` | change - base |",
        "|---|---:|---:|---:|",
    ]
    for capability in sorted(set(rates[0]) | set(rates[1])):
        old, new = rates[0].get(capability), rates[1].get(capability)
        delta = f"{(new - old) * 100:+.0f} points" if old is not None and new is not None else ""
        lines.append(f"| {capability} | {percent(old)} | {percent(new)} | {delta} |")
    for revision, rate in zip((base, change), rates, strict=True):
        if not rate:
            lines += ["", f"`{revision.name}` wrote no {BEHAVIOUR}."]
    return "\n".join(lines)


def pass_rates(frame: pd.DataFrame | None) -> dict[str, float]:
    if frame is None:
        return {}
    return frame.groupby("capability")["passed"].mean().astype(float).to_dict()


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def curves_section(base: Revision, change: Revision) -> str:
    lines = ["#### Validation curves per epoch", ""]
    absent = [r.name for r in (base, change) if r.history is None]
    if absent:
        lines.append(f"No curves for {' and '.join(f'`{n}`' for n in absent)}: no {HISTORY}.")
    present = [r for r in (base, change) if r.history is not None]
    if not present:
        return "\n".join(lines)
    same_epochs = len(present) == 2 and np.array_equal(
        base.history["epoch"].to_numpy(), change.history["epoch"].to_numpy()
    )
    if same_epochs:
        lines.append(f"Bars: base `{base.name}`; line: change `{change.name}`.")
        charts = [
            xychart(
                title,
                base.history["epoch"],
                [("bar", base.history[column]), ("line", change.history[column])],
            )
            for column, title in CURVES
        ]
    else:
        if len(present) == 2:
            lines.append("Base and change ran different epochs: one chart each.")
        charts = [
            xychart(f"{title}, {r.name}", r.history["epoch"], [("line", r.history[column])])
            for column, title in CURVES
            for r in present
        ]
    lines += [f"\n```mermaid\n{chart}\n```" for chart in charts]
    return "\n".join(lines)


def xychart(title: str, epochs: pd.Series, series: list[tuple[str, pd.Series]]) -> str:
    """A Mermaid xychart-beta chart: one bar or line per series, over the epochs."""
    values = np.concatenate([s.to_numpy(dtype=float) for _, s in series])
    low, high = float(values.min()), float(values.max())
    # at least 0.01 each side: a flat or tiny curve (a loss near 0) still spans a printed range
    pad = max((high - low) * 0.1, 0.01)
    lines = [
        "xychart-beta",
        f'    title "{title.replace(chr(34), chr(39))}"',
        f'    x-axis "epoch" [{", ".join(str(int(e)) for e in epochs)}]',
        f'    y-axis "{title.split(" per ")[0]}" {low - pad:.4f} --> {high + pad:.4f}',
    ]
    lines += [
        f"    {kind} [{', '.join(f'{v:.4f}' for v in s.to_numpy(dtype=float))}]"
        for kind, s in series
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the base: a DVC experiment name or a git rev")
    parser.add_argument("change", help="the change: a DVC experiment name or a git rev")
    args = parser.parse_args()
    print(summary(load(args.base), load(args.change)), end="")


if __name__ == "__main__":
    cli.run(main)
