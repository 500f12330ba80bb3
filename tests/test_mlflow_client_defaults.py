"""Importing the tracking code changes nothing; connecting sets MLflow's fail-fast settings, but
never over the user's own."""

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
NAMES = [
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    "MLFLOW_HTTP_REQUEST_TIMEOUT",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
]
SCRIPT = """
import json, os, sys
from rnn_sentiment.tracking import store, training_log
from rnn_sentiment.serving import predict
names = sys.argv[1:]
imported = {n: os.environ.get(n) for n in names}
store.connect("defaults")
print(json.dumps({"imported": imported, "connected": {n: os.environ.get(n) for n in names}}))
"""


def test_import_leaves_the_environment_alone_and_connect_sets_fail_fast_defaults_but_not_over_the_users(
    tmp_path,
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.update(
        PYTHONPATH=str(SRC),
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
        MLFLOW_HTTP_REQUEST_TIMEOUT="60",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *NAMES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["imported"] == {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": None,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": None,
    }
    assert seen["connected"] == {
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
