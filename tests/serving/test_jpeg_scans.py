"""Progressive JPEGs with many scans: each scan is a pass over every block, so their count
(times the pixels) is bounded before decoding."""

import shutil
import subprocess
import time

import pytest
from PIL import Image

from serve.core.decode import count_jpeg_scans, decode_image
from serve.core.errors import ImageTooLarge
from support.drawings import encode
from support.hostile import bombs, costly_uploads, drawn_seven, many_scans

needs_libjpeg_tools = pytest.mark.skipif(
    not (shutil.which("jpegtran") and shutil.which("djpeg")),
    reason="needs jpegtran and djpeg (apt-get install libjpeg-turbo-progs)",
)


def seven_jpeg(side=400, **params) -> bytes:
    return encode(drawn_seven("RGB", (side, side), (255,) * 3, (0,) * 3), "JPEG", **params)


def scans(data: bytes) -> int:
    return count_jpeg_scans(data, 10**6, 10**6)[0]


def djpeg_scans(path) -> int:
    """libjpeg's own count: its trace prints a line for every SOS it reads."""
    trace = subprocess.run(
        ["djpeg", "-verbose", "-verbose", "-outfile", "/dev/null", str(path)],
        capture_output=True,
        text=True,
    ).stderr
    return trace.count("Start Of Scan")


def test_ordinary_jpegs_are_counted_and_accepted():
    assert scans(seven_jpeg()) == 1
    assert scans(seven_jpeg(progressive=True)) == 10
    assert scans(encode(Image.new("L", (64, 64), 255), "JPEG", progressive=True)) == 6
    decode_image(seven_jpeg(5000, progressive=True, quality=95))  # 25 MP, 10 scans


@pytest.mark.parametrize("name", [n for n in bombs() if "scans" in n])
def test_many_scans_are_refused_fast(name):
    data = bombs()[name]
    started = time.process_time()
    with pytest.raises(ImageTooLarge, match="scans"):
        decode_image(data)
    print(f"{name}: refused in {(time.process_time() - started) * 1000:.1f} ms CPU")


def test_scans_times_pixels_is_bounded():
    with pytest.raises(ImageTooLarge, match="11 scans of 5000x5000 pixels"):
        decode_image(many_scans(11))
    decode_image(costly_uploads()["progressive JPEG 2795x2795, 32 scans"])


def test_a_scan_marker_inside_a_segment_is_not_counted():
    thumbnail = seven_jpeg(64, progressive=True)  # an EXIF thumbnail is a whole JPEG
    data = seven_jpeg()
    app1 = b"\xff\xe1" + (len(thumbnail) + 2).to_bytes(2, "big") + thumbnail
    assert scans(data[:2] + app1 + data[2:]) == 1


def test_thousands_of_empty_segments_are_refused():
    data = seven_jpeg()
    with pytest.raises(ImageTooLarge, match="marker segments"):
        decode_image(data[:2] + b"\xff\xfe\x00\x02" * 100_000 + data[2:])


@needs_libjpeg_tools
def test_the_count_agrees_with_libjpeg(tmp_path):
    source = tmp_path / "source.jpg"
    source.write_bytes(seven_jpeg(quality=90))
    script = tmp_path / "scans.txt"
    script.write_text(
        "0,1,2: 0 0 0 0;\n"
        + "".join(f"0: {k} {k} 0 0;\n" for k in range(1, 64))
        + "".join(f"1: {k} {k} 0 0;\n" for k in range(1, 34))
        + "1: 34 63 0 0;\n2: 1 63 0 0;\n"
    )
    made = {
        "jpegtran default": ["jpegtran", "-progressive"],
        "jpegtran 99 scans": ["jpegtran", "-scans", str(script)],
        "jpegtran restart markers": ["jpegtran", "-progressive", "-restart", "1"],
        "baseline": ["jpegtran"],
    }
    for name, command in made.items():
        path = tmp_path / f"{name}.jpg"
        subprocess.run([*command, "-outfile", str(path), str(source)], check=True)
        assert scans(path.read_bytes()) == djpeg_scans(path) > 0, name
    accepted = tmp_path / "jpegtran default.jpg"
    decode_image(accepted.read_bytes())
    with pytest.raises(ImageTooLarge, match="more than 32 scans"):
        decode_image((tmp_path / "jpegtran 99 scans.jpg").read_bytes())
    for n, repeat in ((10, 0), (33, 0), (120, 2)):
        path = tmp_path / f"many{n}.jpg"
        path.write_bytes(many_scans(n, 200, repeat))
        assert scans(path.read_bytes()) == djpeg_scans(path) == n
