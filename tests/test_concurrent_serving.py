"""The registered champion, served by a real `mlflow models serve` on 127.0.0.1, answers 8
concurrent clients correctly, every request; one string is one review; a blank one is answered
as empty; and loading the model prints no warning.

The model is a tiny untrained bundle logged and registered by the project's own code (as train
and evaluate do) in a throwaway SQLite store: what is served is the same, minus the training.
"""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from rnn_sentiment.model.predictor import Predictor
from rnn_sentiment.tracking import logged_models, registry
from servers import group_alive, post_status, served_model
from tiny_bundle import write_tiny_bundle

pytestmark = pytest.mark.slow
CLIENTS, REQUESTS_EACH = 8, 20
TEXTS = [["great !"], ["awful . awful", "great great !"], ["a great , awful film ."], ["awful"] * 5]


def body(texts: list[str]) -> dict:
    return (
        {"inputs": texts[0]}
        if len(texts) == 1
        else {"dataframe_records": [{"text": t} for t in texts]}
    )


def register_tiny_champion(root) -> str:
    """The tracking URI of a store whose imdb-rnn@champion is the tiny bundle."""
    import mlflow

    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment = mlflow.create_experiment(
            "serving", artifact_location=(root / "mlruns").as_uri()
        )
        with mlflow.start_run(experiment_id=experiment):
            logged = logged_models.log_model(write_tiny_bundle(root / "model.pt"))
        registry.register_and_promote(
            logged.model_uri, "imdb-rnn", "champion", registry.Verdict(True, "a tiny model", None)
        )
    finally:
        mlflow.set_tracking_uri(previous)
    return uri


def test_the_served_champion_answers_concurrent_clients_correctly(tmp_path):
    uri = register_tiny_champion(tmp_path)
    expected = [
        Predictor.load(tmp_path / "model.pt").predict_proba(texts).tolist() for texts in TEXTS
    ]
    log = tmp_path / "serve.log"
    with served_model("models:/imdb-rnn@champion", uri, log) as (url, process):
        endpoint = f"{url}/invocations"

        def client(number: int) -> list[str]:
            wrong = []
            for request in range(REQUESTS_EACH):
                which = (number + request) % len(TEXTS)
                status, answer = post_status(endpoint, body(TEXTS[which]))
                if status != 200:
                    wrong.append(f"HTTP {status}: {json.dumps(answer)[:300]}")
                elif [row["probability"] for row in answer["predictions"]] != pytest.approx(
                    expected[which]
                ):
                    wrong.append(
                        f"{TEXTS[which]} scored {answer['predictions']}, alone {expected[which]}"
                    )
            return wrong

        with ThreadPoolExecutor(CLIENTS) as pool:
            wrong = [line for lines in pool.map(client, range(CLIENTS)) for line in lines]
        assert not wrong, (
            f"{len(wrong)} of {CLIENTS * REQUESTS_EACH} requests went wrong, e.g. {wrong[0]}"
        )

        status, answer = post_status(endpoint, {"inputs": ["great !", "  "]})
        assert status == 200 and answer["predictions"][1] == {"label": "empty", "probability": 0.5}
        pid = process.pid
    assert not group_alive(pid)
    assert "Warning" not in log.read_text(), log.read_text()[-3000:]
