"""One Predictor shared by many threads, as the scoring server's worker threads share it:
every call answers, and answers what a call made alone answers."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rnn_sentiment.model.predictor import Predictor
from tiny_bundle import write_tiny_bundle

TEXTS = [["great !"], ["awful . awful", "great great !"], ["a great , awful film ."], ["awful"] * 5]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return write_tiny_bundle(tmp_path_factory.mktemp("model") / "model.pt")


def test_predict_proba_from_8_threads_answers_every_call_as_alone(bundle):
    predictor = Predictor.load(bundle)
    alone = [predictor.predict_proba(texts) for texts in TEXTS]
    calls = [i % len(TEXTS) for i in range(400)]

    def score(which: int):
        try:
            return which, predictor.predict_proba(TEXTS[which])
        except Exception as error:  # counted below: the test is about how many calls fail
            return which, error

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(score, calls))
    failed = [repr(answer) for _, answer in answers if isinstance(answer, Exception)]
    assert not failed, f"{len(failed)} of {len(calls)} calls failed, e.g. {failed[0]}"
    assert all(np.array_equal(answer, alone[which]) for which, answer in answers)
