"""Fuzzing: whatever arrives, preprocessing and the API answer as documented.

Hypothesis feeds ``preprocess_image`` arbitrary arrays, arbitrary bytes, damaged images of
every format and Pillow images of every mode. The contract: a finite float32 array of shape
(1, 28, 28, 1) in [0, 1], or a BadImage (NotAnImage, ImageTooLarge, BlankImage...);
never another exception. Read as a number (any image, and rows of marks that touch,
cross and enclose each other), an image gives up to 12 digits whose boxes lie inside it
(none only when every part is a mark), or a BadImage.
Schemathesis generates requests for every operation in /openapi.json: no 5xx, and every
response's status, content type and body as documented.

Bounded by hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "ci" (the default: the same
examples every run, under a minute) and "long" (thousands of new examples each; `make fuzz`;
a failure prints a blob to replay it with @reproduce_failure). Run with
--hypothesis-show-statistics to see which outcomes the examples reached.
"""

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, from_dtype
from PIL import Image, ImageDraw
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from serve.core.errors import BadImage
from serve.core.predictor import Predictor
from serve.core.preprocess import preprocess_image
from serve.core.read import Reader
from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, encode, seven
from support.server import post_image

SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=SLOW_IS_FINE,
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=SLOW_IS_FINE,
)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
READER = Reader(Predictor(SHIPPED_MODEL))

# Pillow warns about the damaged TIFFs and huge sizes it is fed here, then copes or raises.
pytestmark = [
    pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin"),
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
]


def check_contract(source):
    """preprocess_image(source) is a valid model input or a documented error; returns it."""
    try:
        out = preprocess_image(source)
    except BadImage as error:
        event(type(error).__name__)  # --hypothesis-show-statistics shows how deep it went
        return error
    event("model input")
    assert out.shape == (1, 28, 28, 1) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    return out


# --- arrays ------------------------------------------------------------------------------

DTYPES = [
    np.bool_,
    np.uint8,
    np.uint16,
    np.int8,
    np.int32,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
]
ANY_DTYPE = st.sampled_from(DTYPES)
SHAPES = array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=300)  # 1xN, Nx1 too


def values(dtype):
    """Any value of the type (extremes; NaN, infinities and subnormals for floats), or an
    ordinary grey level."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        level = st.floats(0, 1, width=16)
    else:
        level = st.integers(0, 1 if dtype.kind == "b" else 127)
    return st.one_of(from_dtype(dtype), level.map(dtype.type))


@st.composite
def any_arrays(draw, dtypes=ANY_DTYPE):
    """Sparse arrays: one fill value and a few other values anywhere; empty ones too."""
    dtype = draw(dtypes)
    shape = draw(SHAPES | array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=3))
    return draw(arrays(dtype, shape, elements=values(dtype)))


@st.composite
def drawn_arrays(draw, dtypes=ANY_DTYPE):
    """A background, a stroke and some noise, in any value of any type."""
    dtype = draw(dtypes)
    height, width = draw(SHAPES)
    array = np.full((height, width), draw(values(dtype)), dtype=dtype)
    top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
    bottom, right = draw(st.integers(top, height - 1)), draw(st.integers(left, width - 1))
    array[top : bottom + 1, left : right + 1] = draw(values(dtype))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    noisy = rng.random((height, width)) < draw(st.sampled_from([0.0, 0.01, 0.3]))
    array[noisy] = draw(values(dtype))
    return array


@FUZZ
@given(st.one_of(any_arrays(), drawn_arrays()))
def test_any_array_gives_a_model_input_or_a_documented_error(array):
    check_contract(array)


@FUZZ
@given(drawn_arrays(st.sampled_from([np.float16, np.float32, np.float64])), st.data())
def test_a_nan_pixel_is_refused_as_such_never_taken_for_a_blank_page(array, data):
    row = data.draw(st.integers(0, array.shape[0] - 1))
    col = data.draw(st.integers(0, array.shape[1] - 1))
    array[row, col] = np.nan
    with pytest.raises(BadImage, match="NaN"):
        preprocess_image(array)


@FUZZ
@given(drawn_arrays(st.sampled_from([np.uint8, np.uint16, np.int32])))
def test_an_integer_array_reads_like_the_pillow_image_made_of_it(array):
    from_array, from_image = check_contract(array), check_contract(Image.fromarray(array))
    if isinstance(from_image, np.ndarray):
        np.testing.assert_array_equal(from_array, from_image)
    else:
        assert type(from_array) is type(from_image)


# --- Pillow images -----------------------------------------------------------------------

MODES = [
    "1",
    "L",
    "LA",
    "La",
    "P",
    "PA",
    "RGB",
    "RGBA",
    "RGBa",
    "RGBX",
    "CMYK",
    "YCbCr",
    "LAB",
    "HSV",
    "I",
    "I;16",
    "I;16B",
    "F",
]
FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"]
PREMULTIPLIED = {"La": "LA", "RGBa": "RGBA"}  # Pillow makes these from their plain modes only


@st.composite
def pillow_images(draw):
    """Small images in any mode: random bytes (NaN in mode F, negative in I), or a stroke
    on a background, with any alpha."""
    mode = draw(st.sampled_from(MODES))
    size = (draw(st.integers(1, 64)), draw(st.integers(1, 64)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        length = len(Image.new(mode, size).tobytes())
        return Image.frombytes(mode, size, rng.bytes(length))
    background = draw(st.integers(0, 255))
    grey = Image.new("L", size, background)
    corners = rng.integers(0, max(size), 4).tolist()
    ImageDraw.Draw(grey).line(
        corners, fill=draw(st.integers(0, 255)), width=draw(st.integers(1, 8))
    )
    image = grey.convert(PREMULTIPLIED.get(mode, mode))
    if image.mode in ("LA", "PA", "RGBA"):
        alpha = draw(st.sampled_from(["opaque", "clear", "stroke", "noise"]))
        image.putalpha(
            {
                "opaque": Image.new("L", size, 255),
                "clear": Image.new("L", size, 0),
                "stroke": grey.point(lambda level: 255 * (level != background)),
                "noise": Image.frombytes("L", size, rng.bytes(size[0] * size[1])),
            }[alpha]
        )
    if mode == "P" and draw(st.booleans()):
        image.info["transparency"] = draw(st.integers(0, 255))
    return image.convert(mode)


def save(image, fmt):
    """The image's file in ``fmt``; modes the format cannot store are converted to RGB."""
    buffer = io.BytesIO()
    try:
        image.save(buffer, format=fmt)
    except (OSError, KeyError, ValueError, TypeError):
        buffer = io.BytesIO()
        image.convert(PREMULTIPLIED.get(image.mode, image.mode)).convert("RGB").save(
            buffer, format=fmt
        )
    return buffer.getvalue()


@st.composite
def damaged_files(draw):
    """A real image file, maybe truncated, maybe with bytes overwritten."""
    data = bytearray(save(draw(pillow_images()), draw(st.sampled_from(FORMATS))))
    for _ in range(draw(st.integers(0, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


SIGNATURES = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"BM",
    b"RIFF\0\0\0\0WEBP",
    b"II*\0",
    b"MM\0*",
    b"",
]


@FUZZ
@given(st.builds(bytes.__add__, st.sampled_from(SIGNATURES), st.binary(max_size=2000)))
def test_any_bytes_give_a_model_input_or_a_documented_error(data):
    check_contract(data)


@FUZZ
@given(damaged_files())
def test_damaged_image_files_give_a_model_input_or_a_documented_error(data):
    check_contract(data)


@FUZZ
@given(pillow_images())
def test_pillow_images_of_any_mode_give_a_model_input_or_a_documented_error(image):
    check_contract(image)


@st.composite
def scribbled_rows(draw):
    """Marks side by side on a wide canvas, as a number is written: each a few lines,
    rings or dots of any pen in its own stretch of the width, apart, touching, crossing or
    enclosing its neighbours, so that grouping, both kinds of cut and the marks of a
    number (a ring round a digit, a plus inside one) are reached."""
    marks = draw(st.integers(1, 8))
    height = draw(st.integers(4, 120))
    width = draw(st.integers(max(8, marks * 4), 400))
    image = Image.new("L", (width, height), 255)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    stretch = width / marks
    for mark in range(marks):
        for _ in range(int(rng.integers(1, 4))):
            xs = np.sort((mark + rng.uniform(-0.2, 1.2, 2)) * stretch)
            ys = np.sort(rng.uniform(0, height, 2))
            ends = [xs[0], ys[0], xs[1], ys[1]]
            pen = int(rng.integers(1, 12))
            shape = rng.choice(["line", "ring", "dot"], p=[0.6, 0.25, 0.15])
            if shape == "line":
                ends = ends if rng.random() < 0.5 else [xs[0], ys[1], xs[1], ys[0]]
                ImageDraw.Draw(image).line(ends, fill=0, width=pen)
            elif shape == "ring":
                ImageDraw.Draw(image).ellipse(ends, outline=0, width=pen)
            else:
                ImageDraw.Draw(image).ellipse(ends, fill=0)
        if rng.random() < 0.2:  # a ring round the whole mark
            around = [mark * stretch, 0, (mark + 1) * stretch - 1, height - 1]
            ImageDraw.Draw(image).ellipse(around, outline=0, width=int(rng.integers(1, 6)))
    return image


@FUZZ
@given(st.one_of(pillow_images(), scribbled_rows()))
def test_any_image_read_as_a_number_gives_digits_inside_it_or_a_documented_error(image):
    try:
        reading = READER.number(image)
    except BadImage:
        event("refused")
        return
    inputs, answer = reading.model_inputs, reading.answer
    event(f"{answer['count']} digits" if answer["count"] < 3 else "3 or more digits")
    assert 0 <= answer["count"] <= 12 and inputs.shape == (answer["count"], 28, 28, 1)
    if answer["count"] == 0:
        assert all(part["kind"] not in ("digit", "unknown") for part in answer["parts"])
    for part in answer["digits"] + answer["parts"]:
        left, top, right, bottom = part["box"]
        assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    # The text, when there is one, is what the parts write, and its value is a number.
    if answer["number"] is not None:
        assert (
            answer["reason"] is None and float(answer["number"].replace(",", "")) == answer["value"]
        )
    else:
        assert answer["value"] is None and answer["reason"]


# --- what the fuzzing found --------------------------------------------------------------


def test_a_tiff_with_associated_alpha_is_read(client):
    """Grey with premultiplied (associated) alpha opens as mode La, which Pillow converts to
    LA only; to_grey asked for RGBA and the server answered 500."""
    image = Image.new("LA", (40, 40), (255, 0))
    ImageDraw.Draw(image).line([(5, 5), (35, 35)], fill=(0, 255), width=4)
    # The ExtraSamples tag (338, one SHORT): 2 (unassociated alpha) -> 1 (associated).
    extra_samples = b"\x52\x01\x03\x00\x01\x00\x00\x00"
    data = encode(image, "TIFF").replace(extra_samples + b"\x02", extra_samples + b"\x01")
    assert Image.open(io.BytesIO(data)).mode == "La"
    assert post_image(client, data, filename="digit.tif").status_code == 200


# --- the HTTP API ------------------------------------------------------------------------

STORE = Path(tempfile.mkdtemp(prefix="fuzz-corrections-")) / "corrections.db"
APP = create_app(  # as conftest.py does: corrections go to a throw-away store
    Settings(model_path=SHIPPED_MODEL, corrections_url=f"sqlite:///{STORE}"), TESTING=True
)
# from_dict, not from_wsgi, which leaves out the operation that serves the document. (The
# conftest's app fixture would need schemathesis.pytest.from_fixture, which fails on pytest 9.)
schema = schemathesis.openapi.from_dict(APP.test_client().get("/openapi.json").get_json())
SEVEN = canvas_png(seven)


@schema.hook
def flatmap_body(context, body):
    """Now and then upload a real drawing, whole or damaged, so that predictions (200) and
    the decoders' errors are checked too, not only the rejection of schemathesis's bytes."""
    images = st.one_of(st.just(SEVEN), damaged_files())
    if isinstance(body, dict):  # multipart/form-data
        return st.one_of(st.just(body), images.map(lambda data: {**body, "image": data}))
    if isinstance(body, (bytes, str)):  # image/*: schemathesis wraps bytes in a str subclass
        return st.one_of(st.just(body), images)
    return st.just(body)


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case):
    # All of schemathesis's checks (no 5xx; status, content type, headers and body as
    # documented; 405 with Allow for other methods...) but two that do not fit this API:
    # bytes that match the schema are rarely an image of a digit (positive data), and
    # unknown query parameters and form fields are ignored, not refused (negative data).
    case.call_and_validate(
        app=APP, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )
