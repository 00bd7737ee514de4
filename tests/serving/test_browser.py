"""The drawing page in a real headless Chromium (Debian's), driven by Playwright.

Chromium comes from `apt-get install chromium` (.ci/run does it); Playwright's own browser
download is never used. Set CHROMIUM=/path/to/chrome to use another binary.
"""

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, seven

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

if not Path(CHROMIUM).exists():
    pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium", pytrace=False)


@contextlib.contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def base_url(app):
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


class Watch:
    """Console errors, page errors and every request the page makes."""

    def __init__(self, page):
        self.errors, self.requests = [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))


def open_page(browser, base_url, locale="ko-KR", **context_options):
    context = browser.new_context(locale=locale, **context_options)
    page = context.new_page()
    watch = Watch(page)
    page.goto(base_url + "/")  # waits for "load": every script has run
    return page, watch


def stroke(page, points, steps=8):
    """Draw one stroke with the mouse through ``points`` given as fractions of the pad."""
    box = page.get_by_test_id("pad").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def draw_one(page):
    stroke(page, [(0.5, 0.15), (0.5, 0.85)])


def draw_zero(page):
    import math

    stroke(
        page,
        [
            (
                0.5 + 0.22 * math.sin(t / 24 * 2 * math.pi),
                0.5 - 0.33 * math.cos(t / 24 * 2 * math.pi),
            )
            for t in range(25)
        ],
        steps=3,
    )


def draw_seven(page):
    stroke(page, [(0.25, 0.2), (0.75, 0.2)])  # the bar
    stroke(page, [(0.75, 0.2), (0.42, 0.85)])  # the diagonal


def draw_four_and_two(page):
    """ "42" written with the mouse: a 4 in two strokes on the left, a 2 on the right."""
    stroke(page, [(0.22, 0.15), (0.12, 0.6), (0.36, 0.6)])  # the 4's open stroke
    stroke(page, [(0.3, 0.3), (0.3, 0.88)])  # its upright
    stroke(
        page,
        [
            (0.55, 0.3),
            (0.62, 0.17),
            (0.74, 0.15),
            (0.82, 0.25),
            (0.8, 0.42),
            (0.56, 0.85),
            (0.86, 0.85),
        ],
    )


def draw_scribble(page):
    # A pen scrubbed back and forth over the whole pad.
    stroke(page, [(0.15 + 0.7 * (i % 2), 0.15 + 0.05 * i) for i in range(15)], steps=4)
    stroke(page, [(0.2 + 0.045 * i, 0.85 - 0.7 * (i % 2)) for i in range(14)], steps=4)


def predict(page):
    with page.expect_response("**/predict?*") as response:
        page.get_by_test_id("predict").click()
    assert response.value.status == 200
    # Locator assertions poll without eval(), which the page's CSP rightly forbids.
    expect(page.get_by_test_id("top3").locator(":scope > *")).to_have_count(3)


def chart_state(page):
    return page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('[data-testid=chart]'));
        const ds = chart.data.datasets[0];
        return {labels: chart.data.labels, data: ds.data, colors: ds.backgroundColor};
    }""")


def pad_ink_pixels(page):
    return page.evaluate("""() => {
        const c = document.querySelector('[data-testid=pad]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""")


@pytest.mark.parametrize("draw, digit", [(draw_one, 1), (draw_zero, 0), (draw_seven, 7)])
def test_mouse_drawn_digit_is_predicted_with_text_chips_and_chart(browser, base_url, draw, digit):
    page, watch = open_page(browser, base_url)
    draw(page)
    predict(page)
    result = page.get_by_test_id("result").inner_text()
    assert result.startswith(f"예측: {digit} (확률 ") and result.endswith("%)")
    chips = page.get_by_test_id("top3").locator(":scope > *")
    assert chips.count() == 3 and chips.first.inner_text().startswith(f"{digit} ")
    chart = chart_state(page)
    assert chart["labels"] == [str(d) for d in range(10)] and len(chart["data"]) == 10
    assert max(range(10), key=lambda d: chart["data"][d]) == digit
    assert sum(chart["data"]) == pytest.approx(1, abs=1e-3)
    assert len({chart["colors"][d] for d in range(10) if d != digit}) == 1
    assert chart["colors"][digit] != chart["colors"][(digit + 1) % 10]  # winner highlighted
    views = page.get_by_test_id("model-view")
    assert views.count() == 1 and views.get_attribute("src").startswith("data:image/png")
    assert not page.locator("#drop-note").is_visible()  # only while a file is dragged over
    assert watch.errors == []
    assert all(url.startswith(base_url) or url.startswith("data:") for url in watch.requests)
    page.context.close()


def test_english_text_and_language_toggle(browser, base_url):
    page, watch = open_page(browser, base_url, locale="en-US")
    draw_seven(page)
    predict(page)
    text = page.get_by_test_id("result").inner_text()
    assert text.startswith("Prediction: 7 (") and text.endswith("%)")
    page.get_by_test_id("lang-toggle").click()
    assert page.get_by_test_id("result").inner_text().startswith("예측: 7 (확률 ")
    assert page.evaluate("document.documentElement.lang") == "ko"
    assert watch.errors == []
    page.context.close()


def test_undo_and_clear(browser, base_url):
    page, _ = open_page(browser, base_url)
    draw_seven(page)
    two_strokes = pad_ink_pixels(page)
    page.get_by_test_id("undo").click()
    one_stroke = pad_ink_pixels(page)
    assert 0 < one_stroke < two_strokes
    predict(page)
    page.get_by_test_id("clear").click()
    assert pad_ink_pixels(page) == 0
    assert page.get_by_test_id("result").inner_text() == ""
    assert page.get_by_test_id("top3").locator(":scope > *").count() == 0
    page.context.close()


def test_blank_canvas_gets_a_message_not_a_prediction(browser, base_url):
    page, watch = open_page(browser, base_url)
    page.get_by_test_id("predict").click()
    assert page.get_by_test_id("note").inner_text() == "먼저 숫자를 그려 주세요."
    assert page.get_by_test_id("result").inner_text() == ""
    assert not any(urlsplit(url).path == "/predict" for url in watch.requests)
    page.context.close()


def test_keyboard_enter_escape_and_ctrl_z(browser, base_url):
    page, _ = open_page(browser, base_url, locale="en-US")
    draw_seven(page)
    page.get_by_test_id("pad").focus()
    with page.expect_response("**/predict?*"):
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("result")).not_to_have_text("")
    page.keyboard.press("Control+z")
    assert pad_ink_pixels(page) > 0
    page.keyboard.press("Control+z")
    assert pad_ink_pixels(page) == 0
    draw_one(page)
    page.keyboard.press("Escape")
    assert pad_ink_pixels(page) == 0
    page.context.close()


def test_pen_width_changes_the_stroke(browser, base_url):
    page, _ = open_page(browser, base_url)
    page.get_by_test_id("pen-width").fill("6")
    draw_one(page)
    thin = pad_ink_pixels(page)
    page.get_by_test_id("clear").click()
    page.get_by_test_id("pen-width").fill("36")
    draw_one(page)
    assert pad_ink_pixels(page) > 3 * thin
    page.context.close()


def test_touch_drawing_on_a_phone_does_not_scroll(browser, base_url):
    page, watch = open_page(
        browser,
        base_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    box = page.get_by_test_id("pad").bounding_box()
    assert box["width"] <= 390
    cdp = page.context.new_cdp_session(page)
    x = box["x"] + box["width"] / 2
    points = [(x, box["y"] + box["height"] * f / 20) for f in range(3, 18)]

    def touch(kind, at=None):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [] if at is None else [{"x": at[0], "y": at[1]}]},
        )

    touch("touchStart", points[0])
    for point in points[1:]:
        touch("touchMove", point)
    touch("touchEnd")
    assert pad_ink_pixels(page) > 0
    assert page.evaluate("window.scrollY") == 0
    # High-DPI: the canvas is backed by device pixels.
    assert (
        page.evaluate("document.querySelector('[data-testid=pad]').width") >= box["width"] * 3 - 2
    )
    predict(page)
    assert page.get_by_test_id("result").inner_text().startswith("예측: 1 ")
    assert watch.errors == []
    page.context.close()


def test_uploading_an_image_file(browser, base_url, tmp_path):
    path = tmp_path / "seven.png"
    path.write_bytes(canvas_png(seven, mode="RGB", background="white", ink="black"))
    page, _ = open_page(browser, base_url)
    with page.expect_response("**/predict?*"):
        page.get_by_test_id("upload").set_input_files(str(path))
    expect(page.get_by_test_id("top3").locator(":scope > *")).to_have_count(3)
    assert page.get_by_test_id("result").inner_text().startswith("예측: 7 ")
    page.context.close()


def test_a_refused_upload_is_worded_in_the_page_language_with_the_server_detail(
    browser, base_url, tmp_path
):
    path = tmp_path / "notes.txt"
    path.write_text("not a drawing\n")
    page, watch = open_page(browser, base_url)
    with page.expect_response("**/predict?*") as response:
        page.get_by_test_id("upload").set_input_files(str(path))
    assert response.value.status == 415
    expect(page.get_by_test_id("note")).to_have_text(
        "읽을 수 있는 이미지가 아니에요. PNG, JPEG, GIF, BMP, WebP, TIFF 파일을 보내 주세요."
    )
    detail = page.get_by_test_id("detail")
    expect(detail).to_have_text(re.compile(r"^not an image that can be read"))
    assert detail.get_attribute("lang") == "en"
    assert page.get_by_test_id("result").inner_text() == ""
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("note")).to_have_text(re.compile(r"^That is not an image"))
    assert accessibility_violations(page) == []
    page.get_by_test_id("clear").click()
    expect(detail).to_have_text("")
    assert watch.errors == [] or all("415" in error for error in watch.errors)
    page.context.close()


def test_controls_are_labelled_and_the_result_is_announced(browser, base_url):
    page, _ = open_page(browser, base_url)
    assert page.get_by_test_id("result").get_attribute("aria-live") == "polite"
    for test_id in ("predict", "undo", "clear"):
        assert page.get_by_test_id(test_id).inner_text().strip()
    assert page.get_by_label("펜 굵기").count() == 1
    page.context.close()


def test_a_scribble_is_not_a_digit_and_the_page_says_so(browser, base_url):
    page, watch = open_page(browser, base_url)
    draw_scribble(page)
    predict(page)
    expect(page.get_by_test_id("result")).to_have_text("숫자가 아닌 것 같아요")
    closest = page.get_by_test_id("note").inner_text()
    assert closest.startswith("가장 가까운 것: ") and closest[-1].isdigit()
    assert page.get_by_test_id("answer").get_attribute("data-verdict") == "not_a_digit"
    # The chart stays, greyed: no bar is highlighted as the answer.
    assert len(set(chart_state(page)["colors"])) == 1
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("result")).to_have_text("That doesn't look like a digit")
    assert page.get_by_test_id("note").inner_text() == f"closest: {closest[-1]}"
    assert watch.errors == []
    page.context.close()


def test_an_unsure_answer_names_the_two_candidates(browser):
    # No answer is sure enough when SURE_FROM is 1: every digit comes out "unsure".
    doubtful = create_app(Settings(model_path=SHIPPED_MODEL, sure_from=1.0), TESTING=True)
    with serving(doubtful) as url:
        page, watch = open_page(browser, url, locale="en-US")
        draw_seven(page)
        predict(page)
        expect(page.get_by_test_id("result")).to_have_text(re.compile(r"^7 or \d\?$"))
        assert page.get_by_test_id("answer").get_attribute("data-verdict") == "unsure"
        assert page.get_by_test_id("note").inner_text().startswith("Not sure")
        assert accessibility_violations(page) == []
        page.get_by_test_id("lang-toggle").click()
        expect(page.get_by_test_id("result")).to_have_text(re.compile(r"^7 또는 \d\?$"))
        assert watch.errors == []
        page.context.close()


def test_a_number_drawn_with_the_mouse_is_read_digit_by_digit(browser, base_url):
    page, watch = open_page(browser, base_url, locale="en-US")  # 1280 px: the wide pad
    box = page.get_by_test_id("pad").bounding_box()
    assert box["width"] >= 1.8 * box["height"]
    draw_four_and_two(page)
    predict_number = page.expect_response("**/predict?*")
    with predict_number as response:
        page.get_by_test_id("predict").click()
    assert "read=number" in response.value.url
    expect(page.get_by_test_id("result")).to_have_text("Number: 42")
    chips = page.get_by_test_id("top3").locator(":scope > *")
    expect(chips).to_have_count(2)
    assert chips.nth(0).inner_text().startswith("4 ") and chips.nth(1).inner_text().startswith("2 ")
    assert page.get_by_test_id("model-view").count() == 2
    # The chart shows the digit whose chip is hovered.
    assert max(range(10), key=lambda d: chart_state(page)["data"][d]) == 4
    chips.nth(1).hover()
    expect(chips.nth(1)).to_have_attribute("aria-pressed", "true")
    assert max(range(10), key=lambda d: chart_state(page)["data"][d]) == 2
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("result")).to_have_text("숫자: 42")
    assert watch.errors == []
    page.context.close()


def test_a_phone_keeps_the_square_pad(browser, base_url):
    page, _ = open_page(browser, base_url, viewport={"width": 390, "height": 844})
    box = page.get_by_test_id("pad").bounding_box()
    assert abs(box["width"] - box["height"]) <= 2
    page.context.close()


def test_a_negative_number_and_a_plus_are_read_as_written(browser, base_url):
    page, watch = open_page(browser, base_url, locale="en-US")  # the wide pad
    stroke(page, [(0.08, 0.5), (0.2, 0.5)])  # a minus
    stroke(page, [(0.32, 0.2), (0.5, 0.2)])  # a 7's bar...
    stroke(page, [(0.5, 0.2), (0.38, 0.85)])  # ...and its diagonal
    with page.expect_response("**/predict?*"):
        page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("result")).to_have_text("Number: -7")
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("result")).to_have_text("숫자: -7")
    page.get_by_test_id("clear").click()
    draw_four_and_two(page)
    stroke(page, [(0.4, 0.55), (0.5, 0.55)])  # a plus between the 4 and the 2
    stroke(page, [(0.45, 0.45), (0.45, 0.65)])
    with page.expect_response("**/predict?*"):
        page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("result")).to_have_text("숫자가 아닌 것 같아요")
    assert page.get_by_test_id("answer").get_attribute("data-verdict") == "not_a_digit"
    assert watch.errors == []
    page.context.close()


# --- accessibility -------------------------------------------------------------------------

# axe-core (MPL 2.0, from npm), vendored for these tests only: the page never serves it.
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def accessibility_violations(page):
    """axe-core's violations on the page as it stands: [(rule, impact, [selectors])].

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the audit sees the page exactly as it is served."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("""async () => (await axe.run(document)).violations.map(
        (v) => [v.id, v.impact, v.nodes.map((n) => n.target.join(" "))])""")
    return [tuple(v) for v in found]


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_the_page_has_no_accessibility_violations(browser, base_url, locale):
    page, watch = open_page(browser, base_url, locale=locale)
    assert accessibility_violations(page) == [], "empty"
    for name, draw in [("a digit", draw_seven), ("a number", draw_four_and_two)]:
        draw(page)
        with page.expect_response("**/predict?*"):
            page.get_by_test_id("predict").click()
        expect(page.get_by_test_id("model-view").first).to_be_visible()
        assert accessibility_violations(page) == [], name
        page.get_by_test_id("clear").click()
    draw_scribble(page)
    predict(page)
    expect(page.get_by_test_id("answer")).to_have_attribute("data-verdict", "not_a_digit")
    assert accessibility_violations(page) == [], "not a digit"
    assert watch.errors == []
    page.context.close()
