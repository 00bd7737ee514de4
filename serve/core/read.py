"""Read an upload: one digit, or a number (every digit in it, left to right).

The one reader of the product: the web API, the batch command's worker processes and its
Ray actors all read through a ``Reader``, so an upload gets the same answer from each.
Whatever is read, the ``Reading`` has one shape: the answer as the API gives it, the
answer of each digit within it (for one digit, the answer itself), and what the model saw
for each digit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from serve.core.decode import decode_image
from serve.core.number import read_number
from serve.core.postprocess import postprocess
from serve.core.predictor import Predictor
from serve.core.preprocess import preprocess_image
from serve.settings import Settings

READS = ("digit", "number")  # what a client may ask to read


@dataclass(frozen=True)
class Reading:
    answer: dict  # as /predict answers: one digit's, or {"number", "count", "digits"}
    digits: list[dict]  # each digit's answer, inside ``answer`` (for one digit: [answer])
    model_inputs: np.ndarray  # float32 (len(digits), 28, 28, 1): what the model saw


class Reader:
    """A model and the limits on what uploads it decodes."""

    def __init__(self, predictor: Predictor, settings: Settings | None = None):
        settings = settings or Settings()
        self.predictor = predictor
        self.max_pixels = settings.max_image_pixels
        self.max_photo_pixels = settings.max_photo_pixels

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        threads: int | None = None,
        model: bytes | None = None,
        metadata: dict | None = None,
    ) -> Reader:
        """The model of ``settings`` (MODEL_PATH), or of ``model``'s bytes and ``metadata``
        (see ``Predictor``), with its thresholds, as configured."""
        predictor = Predictor(
            settings.model_path if model is None else model,
            threads=settings.ort_threads if threads is None else threads,
            not_a_digit_below=settings.not_a_digit_below,
            sure_from=settings.sure_from,
            metadata=metadata,
        )
        return cls(predictor, settings)

    def read(self, data: bytes, what: str = "digit") -> Reading:
        """Upload bytes -> the reading of one digit (``what="digit"``) or of a number."""
        image = self.decode(data)
        return self.number(image) if what == "number" else self.digit(image)

    def decode(self, data: bytes) -> Image.Image:
        """Upload bytes -> an image, within the limits (BadImage otherwise)."""
        return decode_image(data, self.max_pixels, self.max_photo_pixels)

    def digit(self, image: Image.Image) -> Reading:
        model_input = self.digit_input(image)
        (answer,) = self.answers(model_input)
        return Reading(answer, [answer], model_input)

    def number(self, image: Image.Image) -> Reading:
        model_inputs, answer = read_number(image, self.predictor)
        return Reading(answer, answer["digits"], model_inputs)

    def digit_input(self, image: Image.Image) -> np.ndarray:
        """A decoded image of one digit -> the model's input, float32 (1, 28, 28, 1)."""
        return preprocess_image(image)

    def answers(self, model_inputs: np.ndarray) -> list[dict]:
        """Model inputs (N, 28, 28, 1) -> each one's answer, in one run of the model."""
        probs, is_digit = self.predictor.predict(model_inputs)
        return [
            postprocess(p, d, self.predictor.thresholds)
            for p, d in zip(probs, is_digit, strict=True)
        ]
