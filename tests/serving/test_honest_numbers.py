"""?read=number gives a number only for what is one: the marks of a number are read (a
decimal point, a leading minus, thousands commas), a mark no number has makes the drawing
no number, and a drawing that is no number at all gets none."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from serve.core.marks import Line, is_cross, kind_of
from serve.core.segment import Box
from support.drawings import canvas_png, mnist_sample, plus_in_a_ring, png_bytes
from support.server import post_image
from train.drawn import on_canvas
from train.marks import around, write
from train.negatives import HAND_FONTS, on_pad, pen_glyph

MNIST = mnist_sample()


def read(client, data: bytes) -> dict:
    response = post_image(client, data, path="/predict?read=number")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def numbers_of(text_of, count: int, seed: int):
    """``count`` drawings of numbers written as ``text_of(rng)`` says, and their text."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        text = text_of(rng)
        yield png_bytes(write(text, rng, MNIST)), text


def digits(rng, least: int, most: int) -> str:
    count = int(rng.integers(least, most + 1))
    return str(rng.integers(1, 10)) + "".join(map(str, rng.integers(0, 10, count - 1)))


def test_a_decimal_number_is_read_with_its_point_and_value(client):
    right = 0
    for data, text in numbers_of(lambda r: digits(r, 1, 2) + "." + digits(r, 1, 2), 40, 1):
        answer = read(client, data)
        if answer["number"] == text:
            right += 1
            assert answer["value"] == float(text) and isinstance(answer["value"], float)
            assert [p["kind"] for p in answer["parts"]].count("point") == 1
    print(f"decimals read exactly: {right} of 40")
    assert right >= 37


def test_a_negative_number_is_read_with_its_minus(client):
    right = 0
    for data, text in numbers_of(lambda r: "-" + digits(r, 1, 3), 40, 2):
        answer = read(client, data)
        if answer["number"] == text:
            right += 1
            assert answer["value"] == int(text) < 0 and answer["parts"][0]["kind"] == "minus"
    print(f"negative numbers read exactly: {right} of 40")
    assert right >= 37


def test_thousands_commas_keep_the_value(client):
    kept = 0
    for data, text in numbers_of(lambda r: digits(r, 1, 2) + "," + digits(r, 3, 3), 40, 3):
        answer = read(client, data)
        kept += answer["value"] == int(text.replace(",", ""))
    print(f"values with a thousands comma kept: {kept} of 40")
    assert kept >= 36


def test_a_round_blob_between_digits_is_a_point_on_the_baseline_and_a_comma_below_it():
    # A fat pen's comma is a blob as wide as tall: what tells it from a point is that it
    # hangs below the baseline.
    line = Line(top=0, baseline=100)
    digits = [Box(0, 0, 100, 60), Box(0, 120, 100, 180)]
    on_baseline, hanging = Box(78, 80, 102, 104), Box(82, 80, 130, 120)
    assert kind_of(on_baseline, line, digits, pen=15) == "point"
    assert kind_of(hanging, line, digits, pen=15) == "comma"
    # A dot of the digits' pen measures a little under the pen's width; a slip is smaller.
    dot, slip = Box(88, 84, 100, 96), Box(94, 88, 100, 94)
    assert kind_of(dot, line, digits, pen=15) == "point"
    assert kind_of(slip, line, digits, pen=15) is None


def test_a_plus_between_digits_makes_no_number_and_says_why(client):
    no_number = 0
    for data, _ in numbers_of(lambda r: digits(r, 1, 1) + "+" + digits(r, 1, 1), 40, 4):
        answer = read(client, data)
        if answer["number"] is None:
            no_number += 1
            assert answer["value"] is None and answer["verdict"] == "not_a_digit"
            assert answer["reason"]
    print(f"sums given no number: {no_number} of 40")
    assert no_number >= 36


def test_a_plus_sign_is_told_from_a_four_a_ring_and_a_dash():
    size = 40
    for pen in (2, 6, 12):  # a thick pen's bars fill several rows, not only the fullest
        plus = np.zeros((size, size), bool)
        plus[size // 2 - pen // 2 : size // 2 + (pen + 1) // 2] = True
        plus[:, size // 2 - pen // 2 : size // 2 + (pen + 1) // 2] = True
        assert is_cross(plus), pen
        ring = ~np.pad(np.ones((size - 2 * pen, size - 2 * pen), bool), pen)
        assert not is_cross(ring), pen
        dash = np.ones((pen + 4, 2 * pen + 6), bool)  # a minus of a fat pen fills its box
        assert not is_cross(dash), pen
        if pen < 12:  # a 4 that thick for its size is a blob
            four = plus.copy()
            for row in range(size // 2):  # from the top of the stem down to the bar's end
                four[row, max(size // 2 - row - pen, 0) : size // 2 - row + 1] = True
            assert not is_cross(four), pen


def test_a_ring_round_a_digit_is_no_number(client):
    # Most rings touch the digit they hold: one blob, which the model reads as a 0.
    rng = np.random.default_rng(5)
    no_number = sum(
        read(client, png_bytes(around(write(digits(rng, 1, 1), rng, MNIST), rng, "ring")))["number"]
        is None
        for _ in range(40)
    )
    print(f"ringed digits given no number: {no_number} of 40")
    assert no_number >= 32


def test_marks_with_no_digit_among_them_are_no_number(client):
    answer = read(client, canvas_png(plus_in_a_ring, width=12))
    assert [part["kind"] for part in answer["parts"]] == ["ring", "plus"]
    assert answer["count"] == 0 and answer["digits"] == []
    assert answer["number"] is None and answer["verdict"] == "not_a_digit"
    assert "ring" in answer["reason"]


def test_a_line_under_the_digits_is_no_part_of_the_number(client):
    rng = np.random.default_rng(6)
    fine = 0
    for _ in range(40):
        text = digits(rng, 1, 3)
        answer = read(client, png_bytes(around(write(text, rng, MNIST), rng, "underline")))
        fine += answer["number"] in (text, None)
    print(f"underlined digits read as the digits alone, or no number: {fine} of 40")
    assert fine >= 38


@pytest.mark.parametrize(
    "kind, most",
    [
        ("speck", 0),
        ("shape", 2),
        ("scribble", 4),
        ("letter", 5),
        ("printed", 5),
        ("hatching", 4),
        ("fashion", 6),
    ],
)
def test_drawings_that_are_no_number_get_none(client, kind, most):
    drawings = on_pad(kind, 50, seed=7000)
    if not drawings:
        pytest.skip("Fashion-MNIST is not installed (dataset-fashion-mnist)")
    given = [read(client, png_bytes(drawing))["number"] for drawing in drawings]
    numbers = [number for number in given if number is not None]
    print(f"{kind}: a number given for {len(numbers)} of {len(drawings)}: {numbers}")
    assert len(numbers) <= most


def strokes(pitch: float, count: int = 5, height: int = 160) -> bytes:
    """``count`` upright strokes ``pitch`` of their height apart, centre to centre."""
    image = Image.new("L", (int(count * pitch * height) + 120, height + 80))
    draw = ImageDraw.Draw(image)
    for i in range(count):
        x = 60 + round(i * pitch * height)
        draw.line([(x, 40), (x, 40 + height)], fill=255, width=8)
    return png_bytes(on_canvas(np.asarray(image)))


def test_upright_strokes_as_close_as_hatching_are_no_number(client):
    answer = read(client, strokes(pitch=0.15))
    assert answer["number"] is None and "hatching" in answer["reason"]
    assert read(client, strokes(pitch=0.6, count=3))["number"] == "111"


def test_a_letter_is_not_cut_into_digits_in_doubt(client):
    # A letter of arches cut at its joins reads as 1s and 7s (an m as 177), often in doubt:
    # a cut stands only when the model is sure of every slice.
    rng = np.random.default_rng(11)
    given = []
    for i in range(120):
        letter = "mnuwMNUWh"[i % 9]
        drawing = pen_glyph(rng, HAND_FONTS[i % len(HAND_FONTS)], letter).resize((280, 280))
        answer = read(client, png_bytes(drawing))
        given += [(letter, answer["number"])] if answer["number"] is not None else []
    print(f"letters of arches given a number: {len(given)} of 120: {given}")
    assert len(given) <= 15


def test_a_speck_is_never_cut_into_ones(client):
    image = Image.new("L", (280, 280))
    ImageDraw.Draw(image).ellipse([120, 120, 150, 150], fill=255)
    answer = read(client, png_bytes(on_canvas(np.asarray(image))))
    assert answer["count"] == 1 and answer["number"] is None


def test_more_digits_than_are_read_are_said_not_cut(client):
    rng = np.random.default_rng(8)
    answer = read(client, png_bytes(write(digits(rng, 13, 13), rng, MNIST, gaps=(0.25, 0.35))))
    assert answer["number"] is None and "more than 12 digits" in answer["reason"]
    assert answer["count"] == 12 and answer["verdict"] == "not_a_digit"


def test_a_plain_number_has_its_value_verdict_and_parts(client):
    rng = np.random.default_rng(9)
    answer = read(client, png_bytes(write("42", rng, MNIST, gaps=(0.3, 0.35))))
    assert answer["number"] == "42" and answer["value"] == 42 and answer["reason"] is None
    assert [(p["kind"], p["digit"]) for p in answer["parts"]] == [("digit", 4), ("digit", 2)]
    assert answer["verdict"] == "digit"
    assert [p["box"] for p in answer["parts"]] == [d["box"] for d in answer["digits"]]
