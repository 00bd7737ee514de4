"""The page's correction field ("Wrong? It was…") in a real Chromium against a real server
(gunicorn, as `make serve` runs it): draw, read, type what it really was, send, and find it
in the operator's export with the very bytes the page sent to /predict."""

import csv
import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from support.drawings import ROOT, canvas_png, seven
from support.server import running_server
from tests.serving import test_browser
from tests.serving.test_browser import (
    Watch,
    accessibility_violations,
    draw_four_and_two,
    draw_one,
    draw_scribble,
    draw_seven,
    expect,
    pad_ink_pixels,
    predict,
)

pytestmark = pytest.mark.slow  # real servers

browser = test_browser.browser  # the same fixture: one Chromium for this module's tests


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The corrections database's URL: an SQLite file of this module's own."""
    return f"sqlite:///{tmp_path_factory.mktemp('corrections') / 'corrections.db'}"


@pytest.fixture(scope="module")
def base_url(store):
    with running_server(WORKERS=1, CORRECTIONS_URL=store) as server:
        yield f"http://127.0.0.1:{server.port}"


# Chromium tells the DevTools protocol nothing of a request body that holds a Blob, so the
# forms the page posts are copied on their way to fetch(): {url, fields}, a file's bytes as
# a list of numbers. The script is added through the protocol, before the page's own run,
# and the page's CSP does not govern it.
RECORD_FORMS = """
window.postedForms = [];
const pageFetch = window.fetch;
window.fetch = async (url, options = {}) => {
  if (options.body instanceof FormData) {
    const fields = {};
    for (const [name, value] of options.body.entries()) {
      fields[name] = value instanceof Blob
        ? Array.from(new Uint8Array(await value.arrayBuffer())) : value;
    }
    window.postedForms.push({ url: String(url), fields });
  }
  return pageFetch(url, options);
};
"""


def open_page(browser, base_url, locale="ko-KR", **context_options):
    """test_browser's open_page, with every form the page posts kept for posted()."""
    context = browser.new_context(locale=locale, **context_options)
    context.add_init_script(RECORD_FORMS)
    page = context.new_page()
    watch = Watch(page)
    page.goto(base_url + "/")
    return page, watch


def posted(page, path):
    """The forms the page posted to ``path``, oldest first: [{field: text or bytes}]."""
    return [
        {name: bytes(v) if isinstance(v, list) else v for name, v in form["fields"].items()}
        for form in page.evaluate("window.postedForms")
        if urlsplit(form["url"]).path == path
    ]


def send_correction(page, text, status=201, how="click"):
    """Type ``text`` in the field and send it (a click or Enter); the answer is ``status``."""
    page.get_by_test_id("correction").fill(text)
    with page.expect_response("**/corrections") as response:
        if how == "Enter":
            page.get_by_test_id("correction").press("Enter")
        else:
            page.get_by_test_id("send-correction").click()
    assert response.value.status == status


def requested(watch, path):
    return [url for url in watch.requests if urlsplit(url).path == path]


def exported(store, out):
    """The rows of `python -m serve.corrections export`, each with its image's bytes."""
    env = {**os.environ, "CORRECTIONS_URL": store}
    subprocess.run(
        [sys.executable, "-m", "serve.corrections", "export", str(out)],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with open(out / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["bytes"] = (out / row["file"]).read_bytes()
    return rows


def test_a_correction_is_sent_with_the_drawing_and_stored(browser, base_url, store, tmp_path):
    page, watch = open_page(browser, base_url)
    field = page.get_by_test_id("correction")
    expect(field).to_be_hidden()  # no reading yet: nothing to correct
    draw_seven(page)
    predict(page)
    expect(field).to_be_visible()
    # Korean labels: the field is named by its label, the button by its text.
    expect(page.get_by_label("틀렸나요? 원래 숫자:")).to_have_count(1)
    expect(page.get_by_test_id("send-correction")).to_have_text("보내기")
    send_correction(page, "1")
    status = page.get_by_test_id("correction-status")
    expect(status).to_have_text("고마워요!")
    assert status.get_attribute("role") == "status"
    expect(field).to_have_value("")  # ready for another, should the first have been a typo
    assert accessibility_violations(page) == [], "thanked"
    page.get_by_test_id("lang-toggle").click()
    expect(status).to_have_text("Thanks!")
    expect(page.get_by_label("Wrong? It was:")).to_have_count(1)
    expect(page.get_by_test_id("send-correction")).to_have_text("Send")
    # The image is the very blob the page had read: the drawing it sent to /predict.
    [reading] = posted(page, "/predict")
    [correction] = posted(page, "/corrections")
    assert correction == {"image": reading["image"], "label": "1", "reading": "7"}
    assert watch.errors == []
    page.context.close()

    [row] = [r for r in exported(store, tmp_path / "export") if r["bytes"] == reading["image"]]
    assert row["label"] == "1" and row["reading"] == "7"
    assert row["file"].endswith(".png") and len(row["model_sha256"]) == 64


def test_enter_in_the_field_sends_the_correction_and_does_not_predict(
    browser, base_url, store, tmp_path
):
    page, watch = open_page(browser, base_url, locale="en-US")
    draw_four_and_two(page)
    with page.expect_response("**/predict?*"):
        page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("result")).to_have_text("Number: 42")
    send_correction(page, "43", how="Enter")
    expect(page.get_by_test_id("correction-status")).to_have_text("Thanks!")
    assert len(requested(watch, "/predict")) == 1  # Enter in the field is the field's
    # So is Ctrl+Z: it undoes typing, not a stroke.
    ink = pad_ink_pixels(page)
    page.get_by_test_id("correction").press_sequentially("9")
    page.get_by_test_id("correction").press("Control+z")
    assert pad_ink_pixels(page) == ink
    [reading] = posted(page, "/predict")
    assert watch.errors == []
    page.context.close()
    [row] = [r for r in exported(store, tmp_path / "export") if r["bytes"] == reading["image"]]
    assert row["label"] == "43" and row["reading"] == "42"


def test_what_the_page_answered_is_sent_as_the_reading(browser, base_url):
    page, _ = open_page(browser, base_url)
    draw_scribble(page)
    predict(page)
    expect(page.get_by_test_id("result")).to_have_text("숫자가 아닌 것 같아요")
    send_correction(page, "8")
    [form] = posted(page, "/corrections")
    assert form["label"] == "8" and form["reading"] == "not a digit"
    page.context.close()


@pytest.mark.parametrize("locale", ["ko-KR", "en-US"])
def test_invalid_input_shows_an_error_and_sends_nothing(browser, base_url, locale):
    page, watch = open_page(browser, base_url, locale=locale)
    draw_seven(page)
    predict(page)
    field = page.get_by_test_id("correction")
    error = page.get_by_test_id("correction-error")
    words = {
        "ko-KR": "숫자만 1~12자리로 적어 주세요.",
        "en-US": "Type digits only, 1 to 12 of them.",
    }
    for text in ["", "   ", "seven", "-7", "4.2", "1 2", "1234567890123"]:
        field.fill(text)
        page.get_by_test_id("send-correction").click()
        expect(error).to_have_text(words[locale])
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_be_focused()  # back where it can be put right
    # The error is the field's description, so it is read out with the field.
    assert field.get_attribute("aria-describedby") == error.get_attribute("id")
    assert accessibility_violations(page) == [], "an invalid correction"
    field.fill("12")  # right now: the error goes as soon as the text is
    expect(error).to_have_text("")
    expect(field).to_have_attribute("aria-invalid", "false")
    assert requested(watch, "/corrections") == []
    assert watch.errors == []
    page.context.close()


def test_full_width_digits_are_sent_as_ascii(browser, base_url):
    page, _ = open_page(browser, base_url)
    draw_one(page)
    predict(page)
    send_correction(page, "１２")  # a Korean or Japanese keyboard's full-width digits
    assert posted(page, "/corrections")[0]["label"] == "12"
    page.context.close()


def test_a_new_reading_or_a_cleared_pad_resets_the_field(browser, base_url):
    page, watch = open_page(browser, base_url, locale="en-US")
    draw_seven(page)
    predict(page)
    send_correction(page, "5")
    expect(page.get_by_test_id("correction-status")).to_have_text("Thanks!")
    page.get_by_test_id("correction").fill("4")
    page.get_by_test_id("clear").click()
    expect(page.get_by_test_id("correction")).to_be_hidden()
    draw_one(page)
    predict(page)
    expect(page.get_by_test_id("correction")).to_have_value("")
    expect(page.get_by_test_id("correction-status")).to_have_text("")
    # A drawing refused (a blank pad) is no reading: nothing to correct.
    page.get_by_test_id("clear").click()
    page.get_by_test_id("predict").click()
    expect(page.get_by_test_id("note")).to_have_text("Draw a digit first.")
    expect(page.get_by_test_id("correction")).to_be_hidden()
    assert watch.errors == []
    page.context.close()


# Statuses a test cannot easily bring about on a real server (a refused label, a full
# store, an unreachable database), answered in the server's own words by a stand-in route.
REFUSED = [
    (400, "label must be 1 to 12 digits", "서버가 이 정정을 받지 않았어요."),
    (403, "the corrections store is full", "정정 보관함이 가득 차서 더 받을 수 없어요."),
    (503, "the corrections store cannot be reached", "지금은 정정을 저장할 수 없어요."),
]  # fmt: skip


@pytest.mark.parametrize("status, sentence, words", REFUSED)
def test_a_refusal_is_worded_in_the_page_language_with_the_server_detail(
    browser, base_url, status, sentence, words
):
    page, watch = open_page(browser, base_url)
    page.route(
        "**/corrections",
        lambda route: route.fulfill(
            status=status, content_type="application/json", body=json.dumps({"error": sentence})
        ),
    )
    draw_seven(page)
    predict(page)
    send_correction(page, "1", status=status)
    expect(page.get_by_test_id("correction-text")).to_have_text(re.compile("^" + words))
    detail = page.get_by_test_id("correction-detail")
    expect(detail).to_have_text(sentence)
    assert detail.get_attribute("lang") == "en"
    expect(page.get_by_test_id("correction")).to_have_value("1")  # kept, to send again later
    assert accessibility_violations(page) == [], f"refused with {status}"
    page.get_by_test_id("lang-toggle").click()
    expect(page.get_by_test_id("correction-text")).not_to_have_text(re.compile("^" + words))
    expect(detail).to_have_text(sentence)
    assert all(str(status) in error for error in watch.errors)
    page.context.close()


def test_too_many_corrections_are_refused_by_the_server_and_said_so(browser, tmp_path):
    store = f"sqlite:///{tmp_path / 'corrections.db'}"
    with running_server(WORKERS=1, CORRECTIONS_URL=store, CORRECTIONS_PER_MINUTE=1) as server:
        page, _ = open_page(browser, f"http://127.0.0.1:{server.port}", locale="en-US")
        draw_seven(page)
        predict(page)
        send_correction(page, "1")
        expect(page.get_by_test_id("correction-status")).to_have_text("Thanks!")
        send_correction(page, "2", status=429)
        expect(page.get_by_test_id("correction-text")).to_have_text(
            "Too many corrections; try again in a moment."
        )
        expect(page.get_by_test_id("correction-detail")).not_to_have_text("")
        page.context.close()


def test_an_unreachable_server_is_said_so(browser, base_url):
    page, _ = open_page(browser, base_url)
    draw_seven(page)
    predict(page)
    page.route("**/corrections", lambda route: route.abort())
    page.get_by_test_id("correction").fill("1")
    page.get_by_test_id("send-correction").click()
    expect(page.get_by_test_id("correction-text")).to_have_text("서버에 연결할 수 없습니다.")
    page.context.close()


def test_a_phone_taps_the_field_and_sends(browser, base_url, tmp_path):
    page, watch = open_page(
        browser, base_url, viewport={"width": 390, "height": 844}, device_scale_factor=3,
        is_mobile=True, has_touch=True,
    )  # fmt: skip
    # A photo of a 7 (test_browser draws with a finger; here the taps are what matters).
    photo = tmp_path / "seven.png"
    photo.write_bytes(canvas_png(seven, mode="RGB", background="white", ink="black"))
    with page.expect_response("**/predict?*"):
        page.get_by_test_id("upload").set_input_files(str(photo))
    field = page.get_by_test_id("correction")
    field.tap()
    expect(field).to_be_focused()
    assert field.get_attribute("inputmode") == "numeric"  # a phone offers its digit keys
    page.keyboard.type("1")
    with page.expect_response("**/corrections") as response:
        page.get_by_test_id("send-correction").tap()
    assert response.value.status == 201
    expect(page.get_by_test_id("correction-status")).to_have_text("고마워요!")
    for test_id in ("correction", "send-correction"):  # on screen, big enough for a finger
        target = page.get_by_test_id(test_id).bounding_box()
        assert target["height"] >= 44 and target["x"] + target["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    [form] = posted(page, "/corrections")
    assert form == {"image": photo.read_bytes(), "label": "1", "reading": "7"}
    assert watch.errors == []
    page.context.close()


def test_with_corrections_off_the_control_is_absent(browser):
    with running_server(WORKERS=1, CORRECTIONS="off") as server:
        page, watch = open_page(browser, f"http://127.0.0.1:{server.port}")
        draw_seven(page)
        predict(page)
        assert page.get_by_test_id("correction").count() == 0
        assert page.get_by_test_id("send-correction").count() == 0
        assert accessibility_violations(page) == []
        assert requested(watch, "/corrections") == []
        assert watch.errors == []
        page.context.close()
