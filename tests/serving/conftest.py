import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from serve import create_app
from serve.settings import ROOT, Settings

SHIPPED_MODEL = ROOT / "models" / "mnist.onnx"


@pytest.fixture(scope="session")
def app():
    return create_app(Settings(model_path=SHIPPED_MODEL), TESTING=True)


@pytest.fixture
def client(app):
    return app.test_client()


def canvas_png(draw, size=280, mode="RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255),
               width=18) -> bytes:
    """A PNG like the page's canvas sends; ``draw(d, ink, width)`` puts strokes on it."""
    image = Image.new(mode, (size, size), background)
    draw(ImageDraw.Draw(image), ink, width)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def seven(d, ink, width):
    d.line([(70, 60), (210, 60), (120, 230)], fill=ink, width=width, joint="curve")


def one(d, ink, width):
    d.line([(140, 40), (140, 240)], fill=ink, width=width)


def zero(d, ink, width):
    d.ellipse([(85, 40), (195, 240)], outline=ink, width=width)


@pytest.fixture
def seven_png():
    return canvas_png(seven)


def post_image(client, data: bytes, field="image", filename="canvas.png"):
    return client.post("/predict", data={field: (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return (rows * digit).sum() / digit.sum(), (cols * digit).sum() / digit.sum()
