"""Hostile uploads against the real server, started as `make serve` starts it (gunicorn,
gevent workers, serve/gunicorn_conf.py).

Every case is answered 200 with a well-formed prediction or a 4xx JSON error: never a 5xx,
never a hang. Afterwards the same workers are alive and still predict, the log holds no
traceback, and nothing was written to disk outside the metrics folder.
"""

import io
import json
import os
import socket
import time

import pytest
from PIL import Image, ImageDraw

from support.drawings import ROOT, canvas_png, encode, one, seven
from support.hostile import bombs, costly_uploads, drawn_seven, noise_png
from support.server import multipart, post_upload, request, running_server

pytestmark = pytest.mark.slow

ENDPOINTS = ("/", "/predict", "/healthz", "/openapi.json", "/metrics")


def files_under(folder) -> set[str]:
    skip = {
        ".git",
        ".venv-serve",
        ".venv-train",
        "__pycache__",
        ".pytest_cache",
        ".hypothesis",
        ".ruff_cache",
    }
    found = set()
    for path, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip]
        found.update(os.path.join(path, name) for name in files)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("server-tmp")
    before = files_under(ROOT)
    with running_server(UPLOAD_TIMEOUT=2, KEEPALIVE=2, TMPDIR=scratch) as server:
        workers = server.worker_pids()
        yield server
        # The same workers answered everything: none crashed or was restarted.
        assert sorted(server.worker_pids()) == sorted(workers)
        status, _, body = post_upload(server.port, canvas_png(seven))
        assert status == 200 and json.loads(body)["digit"] == 7
        log = server.log_text()
        assert "Traceback" not in log and "Error handling request" not in log, log
    assert files_under(ROOT) == before
    assert list(scratch.iterdir()) == []


def assert_answered(status, headers, body, expected=None):
    """200 with a prediction, or a 4xx JSON error; ``expected`` pins the status."""
    assert status < 500, body[:300]
    if expected is not None:
        assert status == expected, body[:300]
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    answer = json.loads(body)
    if status == 200:
        assert 0 <= answer["digit"] <= 9 and len(answer["probs"]) == 10
        assert 0 <= answer["prob"] <= 1
    else:
        assert 400 <= status < 500 and isinstance(answer["error"], str) and answer["error"]
    return answer


def image_file(mode, fmt, size=(120, 120), **params) -> bytes:
    background = {"1": 1, "L": 255, "I;16": 65535, "F": 1.0, "CMYK": (0, 0, 0, 0)}
    ink = {"1": 0, "L": 0, "I;16": 0, "F": 0.0, "CMYK": (0, 0, 0, 255)}
    image = drawn_seven(
        mode, size, background.get(mode, (255,) * len(mode)), ink.get(mode, (0,) * len(mode))
    )
    return encode(image, fmt, **params)


def animated(fmt: str) -> bytes:
    frames = []
    for shape in ("line", "ellipse"):
        frame = Image.new("RGBA", (100, 100), (255, 255, 255, 255))
        draw = ImageDraw.Draw(frame)
        if shape == "line":
            draw.line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)
        else:
            draw.ellipse([(20, 10), (80, 90)], outline=(0, 0, 0, 255), width=8)
        frames.append(frame if fmt == "PNG" else frame.convert("P"))
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)


def exif_rotated_seven() -> bytes:
    """A 7 stored turned a quarter, with EXIF orientation 6 ("rotate 90° clockwise")."""
    upright = Image.open(io.BytesIO(canvas_png(seven, mode="RGB", background="white", ink="black")))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", exif=exif.tobytes(), quality=90)


def png_with_ztxt_bomb() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * 20_000_000, zip=True)  # 20 MB of text in ~20 kB
    return encode(Image.open(io.BytesIO(canvas_png(seven))), pnginfo=info)


TRUNCATED = {
    "truncated PNG": canvas_png(seven)[:400],
    "truncated JPEG": image_file("RGB", "JPEG", (400, 400))[:1500],
    "truncated GIF": image_file("L", "GIF", (400, 400))[:300],
    "PNG header only": b"\x89PNG\r\n\x1a\n",
}

NOT_IMAGES = {
    "text named .png": b"hello, I am not an image\n" * 10,
    "SVG": b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
    b'<path d="M4 4 L24 4 L12 24" stroke="black"/></svg>',
    "PDF": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    "HTML with script": b"<html><script>alert(1)</script></html>",
    "ZIP": b"PK\x03\x04" + b"\0" * 100,
    "PPM (a format not promised)": b"P5\n28 28\n255\n" + b"\0" * 784,
}

ODD_BUT_VALID = {
    "1x1 pixel": image_file("L", "PNG", (1, 1)),
    "10000x10 strip": image_file("L", "PNG", (10000, 10)),
    "10x10000 strip": image_file("L", "PNG", (10, 10000)),
    "CMYK JPEG": image_file("CMYK", "JPEG"),
    "palette PNG with transparency": encode(
        Image.open(io.BytesIO(canvas_png(seven))).convert("P"), transparency=0
    ),
    "animated GIF": animated("GIF"),
    "APNG": animated("PNG"),
    "16-bit PNG": image_file("I;16", "PNG"),
    "float TIFF": image_file("F", "TIFF"),
    "bilevel TIFF G4": image_file("1", "TIFF", compression="group4"),
    "BMP": image_file("RGB", "BMP"),
    "WebP": image_file("RGB", "WEBP"),
    "progressive JPEG": image_file("RGB", "JPEG", progressive=True),
    "PNG with a 20 MB zTXt chunk": png_with_ztxt_bomb(),
    "incompressible 1000x1000 PNG": noise_png(1000),
}


@pytest.mark.parametrize("name", sorted(bombs()))
def test_decompression_bombs_are_413(server, name):
    answer = assert_answered(*post_upload(server.port, bombs()[name]), expected=413)
    assert "pixels" in answer["error"]


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_truncated_files_are_refused(server, name):
    assert_answered(*post_upload(server.port, TRUNCATED[name]), expected=415)


@pytest.mark.parametrize("name", sorted(NOT_IMAGES))
def test_files_that_are_not_images_are_415(server, name):
    assert_answered(*post_upload(server.port, NOT_IMAGES[name]), expected=415)


def test_empty_file_is_415(server):
    assert_answered(*post_upload(server.port, b""), expected=415)


@pytest.mark.parametrize("name", sorted(ODD_BUT_VALID))
def test_odd_but_valid_images_are_answered(server, name):
    assert_answered(*post_upload(server.port, ODD_BUT_VALID[name]))


@pytest.mark.parametrize("name", sorted(costly_uploads()))
def test_costliest_accepted_uploads_are_predicted(server, name):
    answer = assert_answered(*post_upload(server.port, costly_uploads()[name]), expected=200)
    assert answer["digit"] == 7


def many_marks() -> bytes:
    """A page of 225 separate square marks: as many blobs as a number reader meets."""
    image = Image.new("L", (1000, 1000), 255)
    draw = ImageDraw.Draw(image)
    for y in range(10, 960, 64):
        for x in range(10, 960, 64):
            draw.rectangle((x, y, x + 30, y + 30), fill=0)
    return encode(image)


@pytest.mark.parametrize("name", sorted([*costly_uploads(), "225 marks"]))
def test_costliest_uploads_are_read_as_numbers_too(server, name):
    data = many_marks() if name == "225 marks" else costly_uploads()[name]
    status, _, raw = post_upload(server.port, data, path="/predict?read=number")
    assert status == 200, raw[:300]
    answer = json.loads(raw)
    assert 1 <= answer["count"] <= 12 and len(answer["digits"]) == answer["count"]


def test_exif_orientation_is_honoured(server):
    answer = assert_answered(*post_upload(server.port, exif_rotated_seven()), expected=200)
    assert answer["digit"] == 7


def test_body_over_the_limit_is_413(server):
    status, headers, body = post_upload(server.port, os.urandom(6 * 1024 * 1024))
    assert_answered(status, headers, body, expected=413)


@pytest.mark.parametrize(
    "filename",
    [
        "../../../../etc/passwd.png",
        "..\\..\\boot.ini",
        "/absolute/path.png",
        "a" * 2000 + ".png",
        "名前.png",
        "nul\x00byte.png",
    ],
)
def test_file_names_are_never_used(server, filename):
    answer = assert_answered(*post_upload(server.port, canvas_png(seven), filename=filename))
    assert answer["digit"] == 7


def test_non_utf8_file_name(server):
    body, content_type = multipart(canvas_png(seven), filename="x")
    body = body.replace(b'filename="x"', b'filename="\xff\xfe\x80.png"')
    status, headers, reply = request(
        server.port, "POST", "/predict", body, {"Content-Type": content_type}
    )
    # Werkzeug reads multipart headers as UTF-8 and skips a body it cannot: no image.
    answer = assert_answered(status, headers, reply, expected=400)
    assert "no image" in answer["error"]


def test_several_file_parts_and_duplicate_fields(server):
    boundary = "b0und4ry"
    parts = [
        ("image", canvas_png(seven)),
        ("image", canvas_png(one)),
        ("file", b"junk"),
        ("other", b"text"),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
            f'filename="{field}.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
            + data
            + b"\r\n"
            for field, data in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    answer = assert_answered(
        *request(
            server.port,
            "POST",
            "/predict",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        ),
        expected=200,
    )
    assert answer["digit"] in (1, 7)


@pytest.mark.parametrize(
    "content_type, body, expected",
    [
        ("application/json", b'{"image": "iVBORw0KGgo="}', 400),
        ("text/plain", canvas_png(seven), 400),
        ("application/x-www-form-urlencoded", b"image=abc", 400),
        ("multipart/form-data", b"--x\r\n\r\n--x--\r\n", 400),  # no boundary
        ("multipart/form-data; boundary=zz", b"garbage without parts", 400),
        ("image/png", b"", 415),
        ("image/svg+xml", NOT_IMAGES["SVG"], 415),
    ],
)
def test_bodies_of_the_wrong_kind(server, content_type, body, expected):
    assert_answered(
        *request(server.port, "POST", "/predict", body, {"Content-Type": content_type}),
        expected=expected,
    )


def test_raw_image_body_is_accepted(server):
    answer = assert_answered(
        *request(server.port, "POST", "/predict", canvas_png(seven), {"Content-Type": "image/png"}),
        expected=200,
    )
    assert answer["digit"] == 7


def test_chunked_transfer_encoding(server):
    body, content_type = multipart(canvas_png(seven))
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(
        "POST",
        "/predict",
        body=iter(chunks),
        encode_chunked=True,
        headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"},
    )
    response = connection.getresponse()
    answer = assert_answered(response.status, dict(response.getheaders()), response.read())
    assert answer["digit"] == 7


def raw_exchange(port, data: bytes, wait: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
        return received


def raw_png_post(content_length: int, png: bytes) -> bytes:
    return (
        f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        f"Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    ).encode() + png


def test_content_length_longer_than_the_body_times_out_with_408(server):
    png = canvas_png(seven)
    started = time.monotonic()
    # The body never ends: the server must give up after UPLOAD_TIMEOUT (2 s here).
    reply = raw_exchange(server.port, raw_png_post(len(png) + 1000, png))
    assert time.monotonic() - started < 8
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b'"error"' in reply


def test_content_length_shorter_than_the_body(server):
    png = canvas_png(seven)
    reply = raw_exchange(server.port, raw_png_post(len(png) // 2, png))
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:200]


def test_headers_that_never_end_are_cut_off(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for _ in range(8):
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
            time.sleep(0.5)
        assert s.recv(100) == b""  # closed by the server
    assert time.monotonic() - started < 8


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_method_on_every_endpoint(server, method, path):
    status, headers, body = request(server.port, method, path, b"x" if method != "HEAD" else None)
    assert status < 500
    if method in ("PUT", "DELETE", "PATCH"):
        assert status == 405 and json.loads(body)["error"]
        assert "Allow" in headers


def test_very_long_request_id_is_not_echoed_whole(server):
    status, headers, body = request(
        server.port, "GET", "/healthz", headers={"X-Request-ID": "r" * 4000}
    )
    assert status == 200 and len(headers["X-Request-ID"]) <= 64


def test_request_id_with_odd_characters_is_replaced(server):
    status, headers, _ = request(
        server.port, "GET", "/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"}
    )
    assert status == 200
    assert headers["X-Request-ID"].isalnum()


def test_security_headers_on_every_endpoint(server):
    for path in ENDPOINTS:
        _, headers, _ = request(server.port, "GET", path)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "Werkzeug" not in headers.get("Server", "")


def test_never_in_debug_mode(server):
    status, headers, body = request(server.port, "GET", "/nowhere?__debugger__=yes&cmd=x")
    assert status == 404 and json.loads(body)["error"]
    assert b"Traceback" not in body and b"debugger" not in body.lower()
