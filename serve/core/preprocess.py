"""Turn any reasonable image of one digit into the model's input, the way MNIST was made.

MNIST digits were binary NIST scans whose ink was size-normalised to fit a 20x20 box
(keeping the aspect ratio, anti-aliased), then placed in a 28x28 field so that the centre
of mass of the ink sits at the centre. Ink is white (1.0) on black (0.0).

Pipeline, pure functions on arrays:
  decode_image  bytes -> Pillow image, bounded work (serve/core/decode.py)
  to_grey       any mode -> float32 2-D in [0, 1], transparency resolved
  ink_map       polarity detected, background removed -> ink in [0, 1]
  mnist_layout  crop to the ink, thin strokes far thicker than MNIST's, fit 20 px, centre
                of mass at the centre -> 28x28

What each step copes with:
  - Any Pillow mode: RGB on white paper, JPEG scans, palette, 16-bit and float grey, CMYK.
  - Transparency: a canvas sends its ink on fully transparent pixels, so the drawn part
    is cut out with a transparent margin and laid on whichever of white or black
    contrasts with the ink (white would hide a white pen).
  - Polarity: the background is the typical border tone; ink is what departs from it on
    the side that departs most, dark on light or light on dark.
  - Paper: departures fainter than NOISE_FLOOR of the strongest ink, or than the grain
    measured on the border allows, are paper; a grainy image first goes through a 3x3
    median so that specks do not stretch the crop. Too little contrast is BlankImage.
  - Thick pens: strokes thicker than THICKEST (13 %) of the digit's size fill its loops, so
    digits of at least SMALLEST_THINNED (40) pixels are eroded back to that, on a copy of
    about THIN_SIDE (64) pixels a side so the work stays bounded. MNIST-sized digits are
    left alone.
  - Layout: the longer side scaled to 20 px with the aspect ratio kept (bilinear, which
    anti-aliases as MNIST's normalisation did), placed in 28x28 by centre of mass, values
    in [0, 1] as in training.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter, ImageStat

from serve.core.contract import SIDE
from serve.core.decode import decode_image
from serve.core.errors import BadImage, BlankImage, NotAnImage
from serve.settings import Settings

FIELD = SIDE  # MNIST image side
BOX = 20  # the ink's longer side is scaled to this
MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of full range)
NOISE_FLOOR = 0.2  # ink below this fraction of the strongest ink is paper noise
THICKEST = 0.13  # strokes thicker than this share of the digit's size are thinned to it
THIN_SIDE = 64  # ...on a copy about this many pixels a side
SMALLEST_THINNED = 40  # ...if the digit is at least this many pixels


BLANK = "the image is blank: draw a digit first"


# --- colour -> grey ----------------------------------------------------------------------


def integers_to_unit(values: np.ndarray) -> np.ndarray:
    """Integer grey levels -> float32 in [0, 1]: 16-bit (0..65535) for 16-bit data or when
    a value exceeds 255, else 8-bit (0..255)."""
    wide = (values.dtype.kind == "u" and values.dtype.itemsize == 2) or values.max() > 255
    return values.astype(np.float32) / (65535.0 if wide else 255.0)


def _luminance(image: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1] for any mode without alpha, 16-bit and float included."""
    if image.mode.startswith("I"):  # I, I;16, I;16B ...
        return np.clip(integers_to_unit(np.asarray(image)), 0.0, 1.0)
    if image.mode == "F":
        grey = np.asarray(image, dtype=np.float32)
        top = 1.0 if grey.max() <= 1.0 else 65535.0 if grey.max() > 255 else 255.0
        with np.errstate(invalid="ignore"):  # a NaN pixel (refused later) need not warn
            return np.clip(grey / top, 0.0, 1.0)
    if image.mode != "L":
        image = image.convert("RGB").convert("L")  # CMYK, YCbCr, P, 1, RGB ...
    return np.asarray(image, dtype=np.float32) / 255.0


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def to_grey(image: Image.Image) -> np.ndarray:
    """float32 (H, W) in [0, 1], with transparent pixels turned into background."""
    return to_grey_with_origin(image)[0]


def to_grey_with_origin(image: Image.Image) -> tuple[np.ndarray, tuple[int, int]]:
    """(grey, (left, top)): to_grey's array, and where its corner lies in ``image``.

    A canvas's toBlob() gives ink on fully transparent pixels (RGBA 0,0,0,0); the ink
    colour is carried by the opaque pixels and the shape by alpha. Compositing onto white
    is right for dark ink; for light ink on transparency (a white pen) white would hide
    it, so the backdrop is whichever of white or black contrasts with the ink.
    """
    if not has_alpha(image):
        return _luminance(image), (0, 0)
    if image.mode == "La":  # grey with premultiplied alpha (a TIFF's associated alpha)
        image = image.convert("LA")  # Pillow converts La to LA only
    elif image.mode not in ("RGBA", "LA"):
        image = image.convert("RGBA")  # a palette's transparent index, PA, RGBa
    drawn = image.getbbox(alpha_only=True)  # the bounding box of the non-transparent pixels
    if drawn is None:  # fully transparent: nothing drawn
        return np.ones(image.size[::-1], dtype=np.float32), (0, 0)
    # Only the drawn part matters; keep a transparent margin so that the border is
    # background. Cropping before any conversion skips most of a canvas's pixels.
    left, top, right, bottom = drawn
    left, top = max(left - 2, 0), max(top - 2, 0)
    image = image.crop((left, top, min(right + 2, image.width), min(bottom + 2, image.height)))
    # Two plain conversions in C; convert("LA") gives the same bands several times slower.
    grey, alpha = image.convert("L"), image.getchannel("A")
    ink_level = ImageStat.Stat(grey, mask=alpha).mean[0]  # over the drawn pixels
    backdrop = Image.new("L", grey.size, 255 if ink_level < 128 else 0)
    # Pillow blends in C: grey * alpha + backdrop * (1 - alpha).
    blended = np.asarray(Image.composite(grey, backdrop, alpha), dtype=np.float32) * (1 / 255)
    return blended, (left, top)


# --- grey -> ink -------------------------------------------------------------------------


def ink_map(grey: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (1 = strongest ink), whatever the polarity and paper tone.

    The background is the typical border tone (a digit rarely covers the border; the
    median ignores the strokes that do). Ink is whatever departs from it, on the side with
    the larger departure: dark pens on light paper, or white-on-black like MNIST itself.
    """
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    # Grain of the paper or sensor, robustly from the border (MAD -> sigma).
    noise = 1.4826 * float(np.median(np.abs(border - background)))
    darker = background - float(grey.min())
    lighter = float(grey.max()) - background
    contrast = max(darker, lighter)
    if contrast < max(MIN_CONTRAST, 6 * noise):
        raise BlankImage(BLANK)
    ink = (background - grey) if darker >= lighter else (grey - background)
    ink *= 1.0 / contrast
    # No clipping yet: the median filter and the floor below are monotonic, so clipping
    # once at the end gives the same result.
    if noise > 0.01:
        # Speckle would stretch the crop to the whole page; a 3x3 median removes isolated
        # grains but keeps strokes, which on a scan are several pixels wide.
        ink = np.array(Image.fromarray(ink).filter(ImageFilter.MedianFilter(3)))
    # Faint departures are paper, not pen: drop them, keep the strokes' soft edges.
    floor = max(NOISE_FLOOR, 4 * noise / contrast)
    if floor >= 0.9:
        raise BlankImage(BLANK)
    return np.clip((ink - floor) / (1.0 - floor), 0.0, 1.0)


# --- ink -> MNIST layout -----------------------------------------------------------------


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    if rows.size == 0:
        raise BlankImage(BLANK)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def fit_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale so the longer side is ``box`` pixels, keeping the aspect ratio (anti-aliased)."""
    height, width = ink.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Pillow's bilinear filter widens its support when shrinking, so it anti-aliases like
    # MNIST's normalisation did (on re-drawn test digits it beat box, Lanczos and Hamming).
    resized = Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    # Bilinear weights are non-negative and sum to one, so the range stays [0, 1].
    small = np.asarray(resized, dtype=np.float32)
    peak = small.max()
    # A thin pen leaves faint pixels once averaged down; MNIST's strokes peak at full ink.
    return small / peak if peak > 0 else small


def centre_by_mass(digit: np.ndarray, field: int = FIELD) -> np.ndarray:
    """Place ``digit`` in a field x field canvas with its centre of mass at the centre."""
    height, width = digit.shape
    total = float(digit.sum())
    centre_row = float(np.arange(height) @ digit.sum(axis=1)) / total
    centre_col = float(np.arange(width) @ digit.sum(axis=0)) / total
    # Whole-pixel shift, as MNIST did: its digits' centres of mass lie within half a pixel
    # of (14, 14) in pixel-index terms. Clamp so the whole box stays inside the field.
    top = min(max(round(field / 2 - centre_row), 0), field - height)
    left = min(max(round(field / 2 - centre_col), 0), field - width)
    out = np.zeros((field, field), dtype=np.float32)
    out[top : top + height, left : left + width] = digit
    return out


def stroke_thickness(ink: np.ndarray) -> float:
    """The typical width of the strokes, in pixels: twice the inked area over the length
    of its outline (a stroke of length L and width w covers L*w and is outlined by 2L)."""
    inked = ink > 0.5
    outline = np.count_nonzero(inked[1:] != inked[:-1]) + np.count_nonzero(
        inked[:, 1:] != inked[:, :-1]
    )
    return 2 * np.count_nonzero(inked) / max(outline, 1)


def thin_thick_strokes(ink: np.ndarray) -> np.ndarray:
    """A digit drawn with strokes thicker than THICKEST of its size (a fat pen on a small
    digit fills its loops) eroded back to that, cropped to its ink; others as they are.

    The erosion works on a copy reduced to about THIN_SIDE pixels, so that its filter
    stays small whatever the image's size. Digits under SMALLEST_THINNED pixels (MNIST's
    own are 20) are left alone: a pixel of erosion would take too much."""
    side = max(ink.shape)
    if side < SMALLEST_THINNED:
        return ink
    excess = stroke_thickness(ink) / side - THICKEST  # as a share of the digit's size
    factor = max(1, side // THIN_SIDE)
    reach = int(round(excess * side / factor / 2))  # an erosion thins both sides of a stroke
    if reach < 1:
        return ink
    thinned = Image.fromarray(ink).reduce(factor) if factor > 1 else Image.fromarray(ink)
    # A 3x3 minimum, ``reach`` times, is the (2 reach + 1)-square one, at a cost that grows
    # with ``reach`` rather than its square; past half the copy's side nothing is left.
    for _ in range(min(reach, THIN_SIDE // 2)):
        thinned = thinned.filter(ImageFilter.MinFilter(3))
    thinned = np.asarray(thinned)
    return crop_to_ink(thinned) if thinned.max() > 0 else ink


def mnist_layout(ink: np.ndarray) -> np.ndarray:
    return centre_by_mass(fit_box(thin_thick_strokes(crop_to_ink(ink))))


# --- the public entry points -------------------------------------------------------------


def preprocess_array(grey: np.ndarray) -> np.ndarray:
    """Grey (H, W) -> float32 (1, 28, 28, 1), as the model was trained."""
    digit = mnist_layout(ink_map(checked_grey(grey)))
    return digit[None, :, :, None]


def checked_grey(grey: np.ndarray) -> np.ndarray:
    """Grey (H, W) as float32 in [0, 1], or BadImage.

    Grey levels are floats in [0, 1], as to_grey makes them: values outside are clipped
    (infinities too) and NaN, which a float TIFF may hold, is refused. Integers are read
    as _luminance reads an image's (integers_to_unit): 0..255, or 0..65535 for 16-bit
    data or when a value exceeds 255, so that an integer array gives what the Pillow
    image made of it gives.
    Booleans are 0 or 1.
    """
    grey = np.asarray(grey)
    if grey.ndim != 2 or grey.size == 0:
        raise BadImage(f"not a grey image: an array of shape {grey.shape}")
    if grey.dtype.kind in "iu":
        grey = integers_to_unit(grey)
    low, high = grey.min(), grey.max()
    if np.isnan(low) or np.isnan(high):
        raise NotAnImage("the image has pixels that are not numbers (NaN)")
    if low < 0 or high > 1:
        grey = np.clip(grey, 0, 1)
    return grey.astype(np.float32, copy=False)


def preprocess_image(
    source,
    max_pixels: int = Settings.max_image_pixels,
    max_photo_pixels: int = Settings.max_photo_pixels,
) -> np.ndarray:
    """Bytes, a Pillow image or a grey array of one digit -> float32 (1, 28, 28, 1)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = decode_image(bytes(source), max_pixels, max_photo_pixels)
    if isinstance(source, Image.Image):
        source = to_grey(source)
    return preprocess_array(source)
