import numpy as np
import pytest

from serve.core.postprocess import postprocess
from serve.core.verdict import Thresholds

THRESHOLDS = Thresholds(not_a_digit_below=0.5, sure_from=0.9)


def test_digit_prob_probs_top3_is_digit_and_verdict():
    probs = np.array([[0.01, 0.02, 0.05, 0.02, 0.0, 0.0, 0.0, 0.85, 0.04, 0.01]], np.float32)
    answer = postprocess(probs, np.float32(0.99), THRESHOLDS)
    assert answer["digit"] == 7
    assert answer["prob"] == 0.85 and answer["prob"] == answer["probs"][7]
    assert [t["digit"] for t in answer["top3"]] == [7, 2, 8]
    assert all(type(p) is float for p in answer["probs"])
    assert sum(answer["probs"]) == pytest.approx(1.0, abs=1e-5)
    assert type(answer["is_digit"]) is float and answer["is_digit"] == 0.99
    # 0.99 x 0.85 is under 0.9: the digit is in doubt.
    assert answer["verdict"] == "unsure"


def test_ties_go_to_the_lower_digit():
    assert postprocess(np.full(10, 0.1), 1.0, THRESHOLDS)["digit"] == 0


def test_wrong_shape_is_an_error():
    with pytest.raises(ValueError):
        postprocess(np.ones(9), 1.0, THRESHOLDS)
