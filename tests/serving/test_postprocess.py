import numpy as np
import pytest

from serve.core.postprocess import postprocess


def test_digit_prob_probs_and_top3():
    probs = np.array([[0.01, 0.02, 0.05, 0.02, 0.0, 0.0, 0.0, 0.85, 0.04, 0.01]], np.float32)
    answer = postprocess(probs)
    assert answer["digit"] == 7
    assert answer["prob"] == 0.85 and answer["prob"] == answer["probs"][7]
    assert [t["digit"] for t in answer["top3"]] == [7, 2, 8]
    assert all(type(p) is float for p in answer["probs"])
    assert sum(answer["probs"]) == pytest.approx(1.0, abs=1e-5)


def test_ties_go_to_the_lower_digit():
    assert postprocess(np.full(10, 0.1))["digit"] == 0


def test_wrong_shape_is_an_error():
    with pytest.raises(ValueError):
        postprocess(np.ones(9))
