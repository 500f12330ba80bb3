"""Model registry: register every evaluated model; move the alias only through the promotion gate.

The alias moves when there is no comparable champion (none, or one tested on other reviews), or
when the candidate is better on the same reviews by McNemar's exact test: right on more of the
reviews exactly one of the two gets right, at p below ``evaluate.promotion_level``; and not worse
on what protects skewed data (test ROC AUC and balanced accuracy, which a model that always answers
one class cannot win); and no behaviour capability's pass rate down by more than
``evaluate.behaviour_margin`` from the champion's.
"""

from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from rnn_sentiment.core.params import EvaluateParams
from rnn_sentiment.tracking.champion import Comparison

BEHAVIOUR_METRIC = "test/behaviour_"
# tags set on the run and on the registered version (which the predict command reads)
DECISION_TAGS = ("registry.promoted", "registry.decision", "registry.p_value")


@dataclass(frozen=True)
class Verdict:
    promote: bool
    summary: str  # one line: both scores, the p-value, the reason
    p_value: float | None  # McNemar's, where there was a paired comparison


def judge(
    scores: dict[str, float],
    behaviour: dict[str, float],
    comparison: Comparison,
    gate: EvaluateParams,
) -> Verdict:
    """``scores``: the candidate's test metrics (``roc_auc``, ``balanced_accuracy``); ``behaviour``:
    its pass rate per capability."""
    if comparison.paired is None:
        return Verdict(True, f"test ROC AUC {scores['roc_auc']:.4f}; {comparison.why_not}", None)
    paired, theirs = comparison.paired, comparison.champion.metrics
    b, c, p = paired.candidate_only_right, paired.champion_only_right, paired.mcnemar_p
    their_roc_auc = theirs.get("test/roc_auc", float("nan"))
    their_balanced = theirs.get("test/balanced_accuracy", float("nan"))
    blocks = []
    if b <= c:
        blocks.append("accuracy not higher")
    if p >= gate.promotion_level:
        blocks.append(f"not significant (p >= {gate.promotion_level:g})")
    if scores["roc_auc"] < their_roc_auc:
        blocks.append("lower ROC AUC")
    if scores["balanced_accuracy"] < their_balanced:
        blocks.append("lower balanced accuracy")
    for capability, rate in sorted(behaviour.items()):
        before = theirs.get(f"{BEHAVIOUR_METRIC}{capability}")
        if before is not None and before - rate > gate.behaviour_margin:
            blocks.append(
                f"behaviour {capability} {before:.2f} -> {rate:.2f} "
                f"(down more than {gate.behaviour_margin:g})"
            )
    reason = "; ".join(blocks) or (
        f"better at p < {gate.promotion_level:g}, ROC AUC and balanced accuracy not lower, "
        f"no behaviour pass rate down more than {gate.behaviour_margin:g}"
    )
    summary = (
        f"test ROC AUC {scores['roc_auc']:.4f} vs {their_roc_auc:.4f} (version "
        f"{comparison.champion.version}), balanced accuracy {scores['balanced_accuracy']:.4f} vs "
        f"{their_balanced:.4f}, McNemar p={p:.3g} (right only: {b} vs {c}); {reason}"
    )
    return Verdict(not blocks, summary, p)


def register_and_promote(model_uri: str, name: str, alias: str, verdict: Verdict) -> dict[str, str]:
    """Register the logged model, move the alias if the verdict says so, and return the decision
    as tags for the run; the registered version gets the decision tags too."""
    import mlflow

    client = MlflowClient()
    version = str(mlflow.register_model(model_uri, name).version)
    if verdict.promote:
        client.set_registered_model_alias(name, alias, version)
    became = "became" if verdict.promote else "did not become"
    tags = {
        "registry.model": name,
        "registry.version": version,
        "registry.promoted": str(verdict.promote).lower(),
        "registry.decision": f"version {version} {became} @{alias}: {verdict.summary}",
        "registry.p_value": "none" if verdict.p_value is None else f"{verdict.p_value:.6g}",
    }
    for key in DECISION_TAGS:
        client.set_model_version_tag(name, version, key, tags[key])
    return tags


def describe(name: str, version: str, card: str) -> None:
    """The model card as the version's description: the MLflow UI shows it on the version's page."""
    MlflowClient().update_model_version(name, version, description=card)


def alias_decision(uri: str) -> str | None:
    """For ``models:/NAME@ALIAS``, one line: the version it resolves to and its promotion
    decision; None for any other URI or an alias that does not resolve."""
    name, at, alias = uri.removeprefix("models:/").partition("@")
    if not uri.startswith("models:/") or not at or "/" in name:
        return None
    try:
        version = MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    decision = version.tags.get("registry.decision", "no registry.decision tag")
    return f"{uri} is version {version.version}: {decision}"
