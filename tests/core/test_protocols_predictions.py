import numpy as np
import pytest

from audit.core.protocols import Predictions


def test_concatenate_keeps_order_and_both_arrays():
    joined = Predictions.concatenate(
        [
            Predictions(labels=np.array([1, 0]), scores=np.array([0.9, 0.1])),
            Predictions(labels=np.array([1]), scores=np.array([0.7])),
        ]
    )
    assert joined.labels.tolist() == [1, 0, 1]
    assert joined.scores.tolist() == [0.9, 0.1, 0.7]
    assert len(joined) == 3


def test_predictions_need_labels_or_scores():
    with pytest.raises(ValueError, match="neither"):
        Predictions(labels=None, scores=None)


def test_label_and_score_lengths_must_agree():
    with pytest.raises(ValueError, match="differ in length"):
        Predictions(labels=np.array([1, 0]), scores=np.array([0.5]))


def test_batches_must_agree_on_scores():
    with pytest.raises(ValueError, match="disagree"):
        Predictions.concatenate(
            [
                Predictions(labels=np.array([1]), scores=np.array([0.5])),
                Predictions(labels=np.array([1])),
            ]
        )
