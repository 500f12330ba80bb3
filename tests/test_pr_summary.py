"""The pull request's job summary (tools/pr_summary.py): built from in-memory revisions here, and
once from two real git commits by the script itself (slow)."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from conftest import PROJECT
from mermaid import check_xychart, mermaid_blocks
from rnn_sentiment.core.errors import PipelineError
from rnn_sentiment.evaluation import intervals, paired
from tools import pr_summary


def predictions(seed: int, n: int = 400, skill: float = 1.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    logits = skill * (2 * labels - 1) + rng.normal(size=n)
    return pd.DataFrame(
        {"id": np.arange(n), "label": labels, "probability": 1 / (1 + np.exp(-logits))}
    )


def history(epochs: int, start: float) -> pd.DataFrame:
    epoch = np.arange(1, epochs + 1)
    return pd.DataFrame(
        {
            "epoch": epoch,
            "train_loss": (1.4 - start) / epoch,
            "train_accuracy": start + 0.01 * epoch,
            "val_loss": (1.3 - start) / epoch,
            "val_accuracy": start + 0.02 * epoch,
        }
    )


def behaviour(rates: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """``rates``: capability -> (passed, cases)."""
    rows = [
        {
            "capability": capability,
            "kind": "label",
            "text": f"case {i}",
            "expected": 1,
            "probability": 0.9 if i < passed else 0.1,
            "passed": i < passed,
        }
        for capability, (passed, cases) in rates.items()
        for i in range(cases)
    ]
    return pd.DataFrame(rows)


def revision(name: str, frame: pd.DataFrame | None, **parts) -> pr_summary.Revision:
    metrics = {"accuracy": 0.5, "roc_auc": 0.5}
    if frame is not None:
        metrics = {
            "accuracy": float(((frame["probability"] >= 0.5) == (frame["label"] == 1)).mean()),
            "roc_auc": 0.9,
        }
    metrics.update(parts.pop("metrics", {}))
    return pr_summary.Revision(name, metrics, frame, **parts)


def test_identical_predictions_differ_by_nothing_and_p_is_one():
    frame = predictions(0)
    text = pr_summary.summary(revision("base", frame), revision("change", frame.copy()))
    assert "| accuracy | +0.0000 | +0.0000 to +0.0000 |" in text
    assert "only the change gets 0 right, only the base 0" in text
    assert "McNemar's exact p = 1, not below 0.05" in text


def test_the_paired_section_is_compare_of_change_against_base():
    base, change = predictions(0, skill=1.0), predictions(1, skill=2.0)
    expected = paired.compare(base["label"], change["probability"], base["probability"])
    text = pr_summary.summary(revision("base", base), revision("change", change))
    assert expected.candidate_only_right > expected.champion_only_right
    assert (
        f"| accuracy | {expected.accuracy_diff:+.4f} | {expected.accuracy_diff_ci_low:+.4f}" in text
    )
    assert f"only the change gets {expected.candidate_only_right:,} right" in text
    assert f"p = {expected.mcnemar_p:.3g}" in text


def test_the_rows_are_matched_by_id_not_by_position():
    frame = predictions(0)
    shuffled = frame.sample(frac=1.0, random_state=0)
    text = pr_summary.summary(revision("base", frame), revision("change", shuffled))
    assert "McNemar's exact p = 1," in text


def test_other_test_rows_are_refused_in_one_line():
    base, change = predictions(0), predictions(0)
    change.loc[3, "label"] = 1 - change.loc[3, "label"]
    with pytest.raises(PipelineError, match="not scored on the same test rows") as error:
        pr_summary.summary(revision("base", base), revision("change", change))
    assert "\n" not in str(error.value)
    with pytest.raises(PipelineError, match="not scored on the same test rows"):
        pr_summary.summary(revision("base", base), revision("change", base.iloc[:-1]))


def test_intervals_come_from_metrics_json_else_from_the_predictions():
    frame = predictions(0)
    own = {
        "accuracy_ci_low": 0.1,
        "accuracy_ci_high": 0.2,
        "roc_auc_ci_low": 0.3,
        "roc_auc_ci_high": 0.4,
    }
    text = pr_summary.summary(revision("base", frame, metrics=own), revision("change", frame))
    row = next(line for line in text.splitlines() if line.startswith("| accuracy |"))
    computed = intervals.bootstrap_intervals(
        frame["label"].to_numpy(), frame["probability"].to_numpy()
    )
    assert "(0.1000 to 0.2000)" in row.split("|")[2]
    assert (
        f"({computed['accuracy_ci_low']:.4f} to {computed['accuracy_ci_high']:.4f})"
        in row.split("|")[3]
    )


def test_a_base_from_before_predictions_gets_sentences_not_errors():
    text = pr_summary.summary(revision("old", None), revision("change", predictions(0)))
    assert "| accuracy | 0.5000 (no interval) |" in text
    assert "No paired comparison: `old` wrote no reports/predictions.csv." in text
    assert "Neither revision wrote reports/behaviour.csv." in text
    assert "No curves for `old` and `change`" in text
    assert "None" not in text


def test_behaviour_pass_rates_side_by_side():
    base = behaviour({"negation": (2, 4), "short": (5, 5)})
    change = behaviour({"negation": (3, 4), "short": (4, 5), "contrast": (1, 2)})
    text = pr_summary.summary(
        revision("b", None, behaviour=base), revision("c", None, behaviour=change)
    )
    assert "| negation | 50% | 75% | +25 points |" in text
    assert "| short | 100% | 80% | -20 points |" in text
    assert "| contrast | - | 50% |  |" in text
    only_change = pr_summary.summary(revision("b", None), revision("c", None, behaviour=change))
    assert (
        "| negation | - | 75% |" in only_change
        and "`b` wrote no reports/behaviour.csv." in only_change
    )


def test_curves_of_the_same_epochs_share_a_chart_that_parses():
    text = pr_summary.summary(
        revision("b", None, history=history(3, 0.7)), revision("c", None, history=history(3, 0.8))
    )
    blocks = mermaid_blocks(text)
    assert len(blocks) == 2  # accuracy and loss
    accuracy = check_xychart(blocks[0])
    assert accuracy == [[0.72, 0.74, 0.76], [0.82, 0.84, 0.86]]
    assert "bar [" in blocks[0] and "line [" in blocks[0]
    assert check_xychart(blocks[1])[0] == [0.6, 0.3, 0.2]


def test_a_flat_curve_near_zero_still_spans_a_printed_range():
    chart = pr_summary.xychart(
        "Validation loss per epoch", pd.Series([1]), [("line", pd.Series([3e-5]))]
    )
    assert check_xychart(chart) == [[0.0]]


def test_curves_of_other_epochs_get_a_chart_each_and_one_epoch_still_parses():
    text = pr_summary.summary(
        revision("b", None, history=history(1, 0.7)), revision("c", None, history=history(4, 0.8))
    )
    blocks = mermaid_blocks(text)
    assert len(blocks) == 4
    assert [len(check_xychart(block)[0]) for block in blocks] == [1, 4, 1, 4]


@pytest.mark.parametrize(
    "path, text, message",
    [
        ("metrics.json", None, "b:metrics.json: missing"),
        ("metrics.json", "{", "b:metrics.json: not JSON"),
        ("metrics.json", '{"accuracy": 0.9}', "b:metrics.json: no number for roc_auc"),
        (
            "reports/predictions.csv",
            "id,label\n0,1\n",
            "b:reports/predictions.csv: no column probability",
        ),
        (
            "reports/predictions.csv",
            "id,label,probability\n0,1,x\n",
            "column probability holds a value",
        ),
        (
            "reports/predictions.csv",
            "id,label,probability\n0,2,0.5\n",
            "column label holds a value other",
        ),
        ("reports/predictions.csv", "id,label,probability\n0,1,1.5\n", "outside \\[0, 1\\]"),
        ("reports/predictions.csv", "id,label,probability\n0,1,.5\n0,1,.5\n", "repeats an id"),
        (
            "reports/plots/history.csv",
            "epoch,val_loss\n1,0.5\n",
            "history.csv: no column val_accuracy",
        ),
        (
            "reports/behaviour.csv",
            "capability,kind,text,expected,probability,passed\nn,label,t,1,0.5,maybe\n",
            "column passed holds",
        ),
    ],
)
def test_bad_files_are_refused_naming_revision_and_file(path, text, message):
    texts = {"metrics.json": '{"accuracy": 0.9, "roc_auc": 0.9}', path: text}
    with pytest.raises(PipelineError, match=message):
        pr_summary.parse("b", texts)


def write_run(repo, frame: pd.DataFrame, epochs: int, rates: dict) -> None:
    (repo / "reports/plots").mkdir(parents=True, exist_ok=True)
    accuracy = float(((frame["probability"] >= 0.5) == (frame["label"] == 1)).mean())
    roc_auc = metrics.roc_auc_score(frame["label"], frame["probability"])
    (repo / "metrics.json").write_text(json.dumps({"accuracy": accuracy, "roc_auc": roc_auc}))
    frame.to_csv(repo / "reports/predictions.csv", index=False)
    history(epochs, accuracy - 0.1).to_csv(repo / "reports/plots/history.csv", index=False)
    behaviour(rates).to_csv(repo / "reports/behaviour.csv", index=False)


def git(repo, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def summarise(repo, *revs: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(PROJECT / "src")])}
    return subprocess.run(
        [sys.executable, "-m", "tools.pr_summary", *revs],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_script_compares_two_real_commits(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "test")
    write_run(repo, predictions(0, skill=1.0), 2, {"negation": (1, 4), "short": (5, 5)})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    write_run(repo, predictions(1, skill=2.0), 2, {"negation": (3, 4), "short": (5, 5)})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    change = git(repo, "rev-parse", "HEAD")
    # where DVC keeps an experiment named ci-head run on baseline HEAD~1 (refs/exps/ab/cdef.../name)
    baseline = git(repo, "rev-parse", "HEAD~1")
    git(repo, "update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/ci-head", change)
    git(repo, "checkout", "-q", "HEAD~1")

    result = summarise(repo, "main~1", "ci-head")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("### What the change is worth")
    assert "| negation | 25% | 75% | +50 points |" in text
    p = float(re.search(r"McNemar's exact p = (\S+),", text).group(1))
    assert p < 0.05 and "unlikely to be chance alone" in text
    blocks = mermaid_blocks(text)
    assert len(blocks) == 2 and all(check_xychart(block) for block in blocks)

    (repo / "reports/predictions.csv").write_text("id,label,probability\n0,1,0.9\n")
    git(repo, "commit", "-qam", "other test rows")
    for revs, message in [
        (("HEAD", "ci-head"), "not scored on the same test rows"),
        (("main~1", "no-such-run"), "no-such-run: neither a DVC experiment nor a git commit"),
    ]:
        refused = summarise(repo, *revs)
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr.startswith("error: ") and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
