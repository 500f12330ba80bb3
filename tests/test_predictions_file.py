"""Per-review predictions and the test rows' digest: two models' files compare review by review
only when they are for the same reviews, in the same order, with the same labels."""

import numpy as np

from rnn_sentiment.evaluation import predictions

TEXTS = ["a superb film", "dull , dull , dull", "not bad at all"]
LABELS = [1, 0, 1]


def test_the_digest_follows_the_texts_their_labels_and_their_order():
    base = predictions.digest(TEXTS, LABELS)
    assert predictions.digest(list(TEXTS), list(LABELS)) == base and len(base) == 64
    assert predictions.digest(TEXTS, [1, 0, 0]) != base
    assert predictions.digest(TEXTS[::-1], LABELS[::-1]) != base
    assert predictions.digest([*TEXTS[:2], "not bad at all!"], LABELS) != base
    # the same characters split across reviews otherwise
    assert predictions.digest(["ab", "c"], [1, 1]) != predictions.digest(["a", "bc"], [1, 1])


def test_the_predictions_frame_numbers_reviews_by_position_and_matches_only_the_same_rows():
    ours = predictions.frame(np.array(LABELS), np.array([0.91234567, 0.2, 0.5]))
    assert list(ours.columns) == predictions.COLUMNS
    assert ours["id"].tolist() == [0, 1, 2] and ours["label"].tolist() == LABELS
    assert ours["probability"].tolist() == [0.912346, 0.2, 0.5]
    theirs = predictions.frame(np.array(LABELS), np.array([0.1, 0.9, 0.3]))
    assert predictions.same_rows(theirs, ours)
    assert not predictions.same_rows(theirs.iloc[:2], ours)
    assert not predictions.same_rows(predictions.frame(np.array([1, 1, 1]), np.ones(3)), ours)
    assert not predictions.same_rows(theirs.rename(columns={"probability": "p"}), ours)
