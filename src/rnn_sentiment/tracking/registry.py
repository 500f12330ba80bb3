"""Model registry: register every evaluated model; move the alias only to a better one, judged
by test ROC AUC, which a model that always answers one class cannot win (accuracy can, on
skewed data)."""

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

METRIC = "test/roc_auc"


def _alias_score(client: MlflowClient, name: str, alias: str) -> tuple[str | None, float | None]:
    try:
        current = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None, None
    return current.version, client.get_run(current.run_id).data.metrics.get(METRIC)


def register_and_promote(model_uri: str, name: str, alias: str, roc_auc: float) -> dict[str, str]:
    """Register the logged model and return the decision, as tags for the run."""
    import mlflow

    client = MlflowClient()
    version = mlflow.register_model(model_uri, name).version
    previous_version, previous = _alias_score(client, name, alias)
    promote = previous is None or roc_auc > previous
    if promote:
        client.set_registered_model_alias(name, alias, version)
    decision = (
        f"version {version} (test ROC AUC {roc_auc:.4f}) "
        + ("became" if promote else "did not become")
        + f" @{alias}; "
        + (
            "no previous holder"
            if previous is None
            else f"previous: version {previous_version} at {previous:.4f}"
        )
    )
    return {
        "registry.model": name,
        "registry.version": str(version),
        "registry.promoted": str(promote).lower(),
        "registry.decision": decision,
    }
