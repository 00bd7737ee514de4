"""One settings object, read from the environment once."""

from pathlib import Path

import pytest

from serve.settings import Settings


def test_defaults_without_environment():
    settings = Settings.from_environment({})
    assert settings == Settings()
    assert settings.max_image_pixels == 4_000_000 and settings.max_photo_pixels == 25_000_000


def test_each_field_comes_from_its_upper_case_variable():
    settings = Settings.from_environment(
        {
            "PORT": "8080",
            "WORKERS": "4",
            "MODEL_PATH": "/models/x.onnx",
            "LOG_LEVEL": "warning",
            "UPLOAD_TIMEOUT": "3",
            "MAX_IMAGE_PIXELS": "1000",
            "THREADS": "9",
        }
    )
    assert settings.port == 8080 and settings.workers == 4 and settings.upload_timeout == 3
    assert settings.model_path == Path("/models/x.onnx") and settings.log_level == "WARNING"
    assert settings.max_image_pixels == 1000


def test_thread_counts_come_from_their_variables():
    settings = Settings.from_environment({"CPU_THREADS": "4", "ORT_THREADS": "2"})
    assert settings.cpu_threads == 4 and settings.ort_threads == 2
    assert Settings().cpu_threads == 2 and Settings().ort_threads == 1


@pytest.mark.parametrize("value", ["many", "1.5", "-2"])
def test_a_bad_number_stops_with_a_message(value):
    with pytest.raises(SystemExit, match="WORKERS"):
        Settings.from_environment({"WORKERS": value})


def test_verdict_thresholds_are_unset_unless_given():
    assert Settings.from_environment({}).sure_from is None
    settings = Settings.from_environment({"NOT_A_DIGIT_BELOW": "0.25", "SURE_FROM": "0.9"})
    assert settings.not_a_digit_below == 0.25 and settings.sure_from == 0.9


@pytest.mark.parametrize("value", ["sure", "1.5", "-0.1"])
def test_a_threshold_must_be_a_probability(value):
    with pytest.raises(SystemExit, match="SURE_FROM"):
        Settings.from_environment({"SURE_FROM": value})


@pytest.mark.parametrize("environ", [{"LOG_LEVEL": "loud"}, {"PORT": "x"}, {"SURE_FROM": "2"}])
def test_a_bad_value_is_one_line_that_says_error(environ):
    with pytest.raises(SystemExit, match=r"^error: [A-Z_]+=") as stopped:
        Settings.from_environment(environ)
    assert "\n" not in str(stopped.value.code)
