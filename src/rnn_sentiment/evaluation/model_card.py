"""The model card (Mitchell et al. 2019, "Model Cards for Model Reporting") as markdown.

Plain markdown only (headings, lists, pipe tables, one fenced block): GitHub renders it, and so does
the MLflow UI, which shows it as the registered model version's description.
"""

import math
from collections.abc import Mapping

# A capability whose pass rate is below this is called failing; one under 1.0 still has failures.
FAILING_BELOW = 0.8
# Test metrics shown, in this order, where present; the first two have 95 % intervals.
METRICS = ("accuracy", "roc_auc", "balanced_accuracy", "f1", "precision", "recall", "loss")
SPLITS = ("train", "val", "test")


def render(facts: Mapping) -> str:
    """The card for one trained model, from what evaluate knows about it.

    ``facts`` keys (only ``params`` and ``metrics`` are required; a missing optional fact is
    said in a sentence):

    - ``params``: the run's params, flat (``{"encode.max_len": 400, ...}``) or nested as in
      params.yaml; ``data.source``, ``data.url``, ``data.sha256``, ``encode.max_len`` and
      ``encode.truncate`` are read from them.
    - ``metrics``: metrics.json's dict: ``accuracy``, ``roc_auc``, ``balanced_accuracy``, ...
      and the 95 % intervals ``accuracy_ci_low``/``_high``, ``roc_auc_ci_low``/``_high``.
    - ``model_name``, ``model_version``, ``run_id``: the registered model, its version, the MLflow run.
    - ``data_counts``: reports/data.json's dict: ``train_pos``, ``train_neg``, ``val_pos``,
      ``val_neg``, ``test_pos``, ``test_neg`` (and ``test_duplicates_of_train``).
    - ``test_digest``: sha256 of the test split's texts and labels, in order.
    - ``behaviour``: ``{capability: pass rate}``, as ``behaviour.pass_rates`` returns.
    - ``champion``: ``None`` where there is no comparable champion, else ``{"version": ...}`` plus
      ``paired.Paired.as_metrics()``: ``accuracy_diff``, ``accuracy_diff_ci_low``/``_high``,
      ``roc_auc_diff``, ``roc_auc_diff_ci_low``/``_high``, ``candidate_only_right``,
      ``champion_only_right``, ``mcnemar_p``.
    - ``decision``: the registry's decision line (tag ``registry.decision``).
    - ``git_commit``: the commit the model was trained from.
    """
    params = _flat(facts["params"])
    metrics = facts["metrics"]
    sections = [
        _title(facts, params),
        _intended_use(),
        _data(params, facts.get("data_counts"), facts.get("test_digest")),
        _params(params),
        _metrics(metrics),
        _behaviour(facts.get("behaviour")),
        _champion(facts.get("champion"), facts.get("decision")),
        _limits(params, metrics, facts.get("data_counts"), facts.get("behaviour")),
        _reproduce(facts.get("git_commit")),
    ]
    return "\n\n".join(sections) + "\n"


def _title(facts: Mapping, params: dict) -> str:
    name = facts.get("model_name") or "sentiment model"
    version = facts.get("model_version")
    cell = str(params.get("model.cell", "recurrent")).upper()
    lines = [
        f"# Model card: {name}" + (f", version {version}" if version is not None else ""),
        "",
        f"A binary sentiment classifier of English movie reviews: a {cell} network combined with an "
        "NB-weighted n-gram classifier, trained by this repository's DVC pipeline.",
    ]
    if facts.get("run_id"):
        lines += ["", f"MLflow run: `{facts['run_id']}`."]
    return "\n".join(lines)


def _intended_use() -> str:
    return "\n".join(
        [
            "## Intended use",
            "",
            "- Scoring whole English movie reviews, like IMDB's, as positive or negative "
            "(a probability of positive).",
            "- A reference point for comparing changes to this pipeline: its data, code and params.",
            "",
            "## Out-of-scope use",
            "",
            "- Other languages, and other kinds of text (product reviews, social media posts, news): "
            "never measured.",
            "- Decisions about people (moderation, hiring, credit): the model was not built or "
            "checked for that.",
            "- Neutral or mixed sentiment, sarcasm, aspects: there are only two labels; a "
            "probability near 0.5 is not a measure of mixed feeling.",
        ]
    )


def _data(params: dict, counts: Mapping | None, test_digest: str | None) -> str:
    lines = ["## Data", ""]
    source = params.get("data.source", "not recorded")
    lines.append(
        f"- Source: `{source}`"
        + (f" (from {params['data.url']})" if params.get("data.url") else "")
    )
    if params.get("data.sha256"):
        lines.append(f"- Source sha256: `{params['data.sha256']}`")
    lines.append(
        f"- Test split digest (sha256 of its texts and labels, in order): `{test_digest}`"
        if test_digest
        else "- Test split digest: not recorded."
    )
    lines.append("")
    if not counts:
        lines.append("Counts per split and class were not recorded.")
        return "\n".join(lines)
    lines += ["| split | positive | negative | total |", "|---|---:|---:|---:|"]
    for split in SPLITS:
        pos, neg = counts.get(f"{split}_pos"), counts.get(f"{split}_neg")
        if pos is None or neg is None:
            lines.append(f"| {split} | not recorded | not recorded | |")
        else:
            lines.append(f"| {split} | {pos:,} | {neg:,} | {pos + neg:,} |")
    duplicates = counts.get("test_duplicates_of_train")
    if duplicates:
        lines += ["", f"{duplicates:,} test reviews also appear in the training split."]
    return "\n".join(lines)


def _params(params: dict) -> str:
    sections: dict[str, list[str]] = {}
    for key, value in params.items():
        section, _, name = key.rpartition(".")
        sections.setdefault(section or "(top level)", []).append(f"{name}={_value(value)}")
    lines = ["## Params", "", "| section | values |", "|---|---|"]
    lines += [
        f"| {_cell(section)} | {_cell(', '.join(values))} |" for section, values in sections.items()
    ]
    return "\n".join(lines)


def _metrics(metrics: Mapping) -> str:
    lines = [
        "## Test metrics",
        "",
        "95 % intervals where computed (percentile bootstrap over the test reviews).",
        "",
        "| metric | value | 95 % interval |",
        "|---|---:|---|",
    ]
    for name in METRICS:
        if name not in metrics:
            continue
        low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
        interval = (
            f"{_number(low)} to {_number(high)}"
            if low is not None and high is not None
            else "not computed"
        )
        lines.append(f"| {name} | {_number(metrics[name])} | {interval} |")
    return "\n".join(lines)


def _behaviour(rates: Mapping | None) -> str:
    lines = ["## Behaviour checks", ""]
    if not rates:
        lines.append("No behaviour checks were run for this model.")
        return "\n".join(lines)
    lines += [
        "CheckList-style cases (Ribeiro et al. 2020) from the repository's cases file, "
        f"by capability. Below {FAILING_BELOW:.0%} a capability is called failing.",
        "",
        "| capability | pass rate | verdict |",
        "|---|---:|---|",
    ]
    for capability, rate in sorted(rates.items()):
        lines.append(f"| {_cell(capability)} | {rate:.0%} | {_verdict(rate)} |")
    return "\n".join(lines)


def _verdict(rate: float) -> str:
    if rate >= 1.0:
        return "passes"
    return "**failing**" if rate < FAILING_BELOW else "passes mostly"


def _champion(champion: Mapping | None, decision: str | None) -> str:
    lines = ["## Comparison with the champion", ""]
    if not champion:
        lines.append(
            "No comparable champion: no registered version held the alias, or it was tested on "
            "other test reviews (another test digest), so there is no paired comparison."
        )
    else:
        lines += [
            f"Paired on the same test reviews against version {champion.get('version', '(unknown)')}; "
            "differences are this model minus the champion.",
            "",
            "| metric | difference | 95 % interval |",
            "|---|---:|---|",
        ]
        for name in ("accuracy", "roc_auc"):
            lines.append(
                f"| {name} | {_signed(champion[f'{name}_diff'])} | "
                f"{_signed(champion[f'{name}_diff_ci_low'])} to {_signed(champion[f'{name}_diff_ci_high'])} |"
            )
        lines += [
            "",
            f"Reviews only this model gets right: {int(champion['candidate_only_right']):,}; "
            f"only the champion: {int(champion['champion_only_right']):,}. "
            f"McNemar's exact test: p = {_p(champion['mcnemar_p'])}.",
        ]
    lines += ["", f"Decision: {decision}" if decision else "Decision: not recorded."]
    return "\n".join(lines)


def _limits(params: dict, metrics: Mapping, counts: Mapping | None, rates: Mapping | None) -> str:
    lines = ["## Known limits", ""]
    max_len = params.get("encode.max_len")
    truncate = params.get("encode.truncate")
    kept = {
        "head": f"its first {max_len} tokens",
        "tail": f"its last {max_len} tokens",
        "head_tail": f"its first and last tokens, {max_len} in all",
    }.get(truncate, f"{max_len} of its tokens")
    lines.append(
        f"- Truncation: a review longer than {max_len} tokens is read as {kept} "
        "(`encode.max_len`, `encode.truncate`); the rest is ignored."
        if max_len is not None
        else "- Truncation: the token limit (`encode.max_len`) was not recorded."
    )
    lines.append(
        "- English movie reviews only (IMDB, Maas et al. 2011): vocabulary, spelling and tone "
        "outside that are unmeasured."
    )
    lines.append("- " + _skew(metrics, counts))
    failing = sorted(c for c, rate in (rates or {}).items() if rate < FAILING_BELOW)
    if failing:
        lines.append(f"- Failing behaviour capabilities: {', '.join(failing)} (see above).")
    return "\n".join(lines)


def _skew(metrics: Mapping, counts: Mapping | None) -> str:
    general = (
        "Skewed data: where one class dominates, accuracy rewards predicting it (always saying the "
        "majority scores its share), so the promotion gate compares ROC AUC and balanced accuracy, "
        "not accuracy alone."
    )
    if not counts or counts.get("test_pos") is None or counts.get("test_neg") is None:
        return general
    total = counts["test_pos"] + counts["test_neg"]
    if not total:
        return general
    share = counts["test_pos"] / total
    balanced = metrics.get("balanced_accuracy")
    here = f" Here the test split is {share:.1%} positive"
    here += f" and balanced accuracy is {_number(balanced)}." if balanced is not None else "."
    return general + here


def _reproduce(commit: str | None) -> str:
    lines = ["## How to reproduce", ""]
    if commit:
        lines += ["```", f"git checkout {commit}", "dvc repro", "```"]
    else:
        lines += [
            "The git commit was not recorded; from the commit that trained it:",
            "",
            "```",
            "dvc repro",
            "```",
        ]
    lines += ["", "Same params and data give the same metrics on CPU."]
    return "\n".join(lines)


def _flat(params: Mapping, prefix: str = "") -> dict:
    flat = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _value(value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    return str(value)


def _number(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}"


def _signed(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.4f}"


def _p(value: float) -> str:
    return f"{value:.3g}" if value >= 0.001 else f"{value:.1e}"


def _cell(text: str) -> str:
    """Table cells must not break the pipe table."""
    return str(text).replace("|", "\\|").replace("\n", " ")
