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


@pytest.mark.parametrize("value", ["many", "1.5", "-2"])
def test_a_bad_number_stops_with_a_message(value):
    with pytest.raises(SystemExit, match="WORKERS"):
        Settings.from_environment({"WORKERS": value})
