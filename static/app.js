// The page: wires the pad and controls to /predict?read=number and shows the answer as
// text, chips (the top three for one digit, one per digit for a number), a bar chart of
// the ten probabilities and the model's-eye view of every digit. Under a reading, where the
// server takes corrections, a field asks what the drawing really was and posts it with the
// same image to /corrections.
//
// One rule keeps the views in step: event handlers only change `state` (through update())
// and render() alone draws the page from it, so a language switch or a new answer can
// never leave one view showing something the others do not.
import { createPad } from "./pad.js";
import { CORRECTION_REFUSALS, REFUSALS, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const BAR = "#9db4d6";
const WINNER = "#c2410c"; // style.css's --accent
const MUTED = "#c8ccd2"; // bars and winner when the verdict is not "digit"
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

// The correction field as it starts for every answer: empty, nothing said. `outcome` is
// what the last send came to, { key, detail } ("thanks" or a refusal).
const freshCorrection = { text: "", invalid: false, sending: false, outcome: null };

const state = {
  lang: initialLanguage(), // "ko" | "en"
  answer: null, // the last /predict?read=number body: { number, value, verdict, reason,
  //              count, digits: [{ digit, prob, probs, top3, is_digit, verdict, box,
  //              model_input }], parts: [{ kind, box, digit }] }
  image: null, // the upload the answer is about, { blob, name }: a correction sends it again
  selected: 0, // the digit of a number whose probabilities the chart shows
  message: null, // or, in its place, a message: { key, detail } (blank pad, an error; the
  //                detail is the server's own sentence, if any)
  busy: false, // a request is in flight
  dragging: false, // a file is being dragged over the pad
  penWidth: Number($("pen-width").value),
  correction: freshCorrection, // the field under the answer that says what it really was
};

// The answer area's states, as update() arguments. Each starts the correction afresh: a
// correction is about one reading, and one typed for the last is not about the next.
const cleared = { answer: null, image: null, message: null, correction: freshCorrection };
const answered = (answer, image) =>
  ({ answer, image, message: null, selected: 0, correction: freshCorrection });
const told = (key, detail = "") =>
  ({ answer: null, image: null, message: { key, detail }, correction: freshCorrection });

function update(changes) {
  Object.assign(state, changes);
  render();
}

// --- drawing the page from state ---------------------------------------------------------

// Chart.js is a classic script (vendor/chart.umd.min.js) that ran before this module.
const chart = new globalThis.Chart($("chart"), {
  type: "bar",
  data: { labels: DIGITS, datasets: [{ label: "", data: [], backgroundColor: [] }] },
  options: {
    responsive: true,
    maintainAspectRatio: false,
    animation: { duration: 200 },
    scales: { y: { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } } },
    plugins: {
      legend: { display: false },
      tooltip: { callbacks: { label: (item) => `${percent(item.raw)}%` } },
    },
  },
});

function render() {
  renderLanguage();
  renderAnswer();
  renderCorrection(state);
  $("pen-width-value").textContent = state.penWidth;
  $("drop-note").hidden = !state.dragging;
  if (state.busy) $("predict").setAttribute("aria-busy", "true");
  else $("predict").removeAttribute("aria-busy");
}

function renderLanguage() {
  const { lang } = state;
  document.documentElement.lang = lang;
  document.title = `${t(lang, "title")} · ${t(otherLanguage(lang), "title")}`;
  document.querySelectorAll("[data-i18n]").forEach((el) => setText(el, t(lang, el.dataset.i18n)));
  document.querySelectorAll("[data-i18n-label]").forEach((el) =>
    el.setAttribute("aria-label", t(lang, el.dataset.i18nLabel)));
  // The button offers the other language, named in it (its visible text is its name).
  setText($("lang-toggle"), t(lang, "otherLanguage"));
  $("lang-toggle").lang = otherLanguage(lang);
}

function renderAnswer() {
  const { answer } = state;
  const { result, note, detail = "" } = describe(state);
  setText($("result"), result);
  setText($("note"), note);
  setText($("detail"), detail);
  // The verdict ("digit", "unsure", "not_a_digit") styles the answer area: a chart and
  // chips that are not a confident reading are shown greyed.
  $("answer").dataset.verdict = answer ? overallVerdict(answer) : "";
  $("top3").replaceChildren(...chips(state));
  renderChart(state);
  renderModelViews(answer);
}

// The digit the chart and the single-digit texts are about.
function shownDigit({ answer, selected }) {
  return answer ? answer.digits[Math.min(selected, answer.count - 1)] : null;
}

// One part alone reads as one digit always has; several (digits, a point, a sign) as a
// number, with the server's verdict on the whole.
const isNumber = (answer) => answer.parts.length > 1;

function overallVerdict(answer) {
  return isNumber(answer) ? answer.verdict : answer.digits[0].verdict;
}

// The words for the answer area: one digit reads as it always has, one case per verdict
// of the server; several read as a number.
function describe({ lang, answer, message }) {
  if (message) return { result: "", note: t(lang, message.key), detail: message.detail };
  if (!answer) return { result: "", note: "" };
  if (isNumber(answer)) {
    if (answer.number === null) return { result: t(lang, "notANumber"), note: "" };
    const doubtful = answer.verdict !== "digit";
    return { result: t(lang, "number", answer.number), note: doubtful ? t(lang, "unsureDigits") : "" };
  }
  const digit = answer.digits[0];
  const [first, second] = digit.top3;
  if (digit.verdict === "not_a_digit") {
    return { result: t(lang, "notADigit"), note: t(lang, "closest", digit.digit) };
  }
  if (digit.verdict === "unsure") {
    return { result: t(lang, "either", first.digit, second.digit), note: t(lang, "unsure") };
  }
  return { result: t(lang, "result", digit.digit, percent(digit.prob)), note: "" };
}

// One digit: its top three. A number: a chip per digit, marked when the model is unsure
// of it; tapping or hovering one shows its probabilities in the chart.
function chips({ answer, selected }) {
  if (!answer) return [];
  if (!isNumber(answer)) return answer.digits[0].top3.map(topChip);
  return answer.digits.map((d, i) => {
    const el = chip(`${d.digit} · ${percent(d.prob)}%`);
    el.classList.add("digit-chip");
    if (d.verdict !== "digit") el.classList.add("unsure");
    if (i === selected) el.classList.add("selected");
    el.tabIndex = 0;
    el.setAttribute("role", "button");
    el.setAttribute("aria-pressed", String(i === selected));
    const select = () => { if (state.selected !== i) update({ selected: i }); };
    el.addEventListener("click", select);
    el.addEventListener("mouseenter", select);
    el.addEventListener("focus", select);
    return el;
  });
}

function topChip({ digit, prob }, rank) {
  const el = chip(`${digit} · ${percent(prob)}%`);
  if (rank === 0) el.classList.add("winner");
  return el;
}

function chip(text) {
  const el = document.createElement("span");
  el.className = "chip";
  el.textContent = text;
  return el;
}

// The one chart is updated in place: Chart.js refuses a second chart on the same canvas.
// It is redrawn only when its answer or language changed, not on every render.
const charted = { digit: undefined, lang: undefined };
function renderChart(current) {
  const digit = shownDigit(current);
  const { lang } = current;
  if (charted.digit === digit && charted.lang === lang) return;
  Object.assign(charted, { digit, lang });
  const dataset = chart.data.datasets[0];
  dataset.label = t(lang, "chartLabel");
  dataset.data = digit ? digit.probs : DIGITS.map(() => 0);
  const sure = digit?.verdict === "digit";
  dataset.backgroundColor = DIGITS.map((_, d) =>
    !digit || !sure ? MUTED : digit.digit === d ? WINNER : BAR);
  chart.update();
}

// Every digit's 28x28 input, left to right; the images are replaced only for a new answer.
let viewed = null;
function renderModelViews(answer) {
  if (viewed === answer) return;
  viewed = answer;
  const views = (answer?.digits ?? []).filter((d) => d.model_input).map((d) => {
    const img = document.createElement("img");
    img.src = d.model_input;
    img.width = img.height = answer.count > 1 ? 84 : 112;
    img.alt = "";
    img.dataset.testid = "model-view";
    return img;
  });
  $("model-views").replaceChildren(...views);
}

// The correction field: hidden until there is a reading (and absent from the page where
// the server takes no corrections), its error tied to the input, its outcome announced.
const correctionForm = $("correction-form");
function renderCorrection({ lang, answer, correction }) {
  if (!correctionForm) return;
  correctionForm.hidden = !answer;
  const input = $("correction");
  if (input.value !== correction.text) input.value = correction.text; // keeps the caret
  input.setAttribute("aria-invalid", String(correction.invalid));
  setText($("correction-error"), correction.invalid ? t(lang, "correctionInvalid") : "");
  const { outcome } = correction;
  setText($("correction-text"), outcome ? t(lang, outcome.key) : "");
  setText($("correction-detail"), outcome?.detail ?? "");
  correctionForm.dataset.outcome = !outcome ? "" : outcome.key === "thanks" ? "thanks" : "refused";
  if (correction.sending) $("send-correction").setAttribute("aria-busy", "true");
  else $("send-correction").removeAttribute("aria-busy");
}

// Skips writes that change nothing, so live regions only announce real changes.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function percent(p) {
  return (p * 100).toFixed(2);
}

// --- language ----------------------------------------------------------------------------

function initialLanguage() {
  const saved = localStorage.getItem("lang");
  if (saved === "ko" || saved === "en") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";
}

function otherLanguage(lang) {
  return lang === "ko" ? "en" : "ko";
}

function toggleLanguage() {
  const lang = otherLanguage(state.lang);
  localStorage.setItem("lang", lang);
  update({ lang });
}

// --- talking to the server ---------------------------------------------------------------

let inFlight = null; // the AbortController of the request whose answer is awaited

async function send(blob, name) {
  inFlight?.abort(); // only the newest drawing's answer matters
  const controller = new AbortController();
  inFlight = controller;
  update({ busy: true });
  const outcome = await ask(blob, name, controller.signal);
  if (inFlight !== controller) return; // a newer request took over
  inFlight = null;
  update({ ...outcome, busy: false });
}

// One round trip to /predict, returned as the answer-area state it leads to.
async function ask(blob, name, signal) {
  const form = new FormData();
  form.append("image", blob, name);
  try {
    const url = "/predict?read=number&include=model_input";
    const response = await fetch(url, { method: "POST", body: form, signal });
    const body = await response.json().catch(() => ({ error: response.statusText }));
    if (response.ok) return answered(body, { blob, name });
    if (response.status === 422) return told("blank"); // the server saw no ink
    // The page's words for the refusal; the server's sentence stays, as the detail.
    return told(REFUSALS[response.status] ?? "failed", body.error || response.statusText);
  } catch (error) {
    return error.name === "AbortError" ? {} : told("network");
  }
}

async function predictPad() {
  if (pad.isEmpty()) return update(told("blank")); // never ask about an empty pad
  return send(await pad.toBlob(), "canvas.png");
}

// An image file, chosen with the file input or dropped on the pad: the answer is about it
// now, so the drawing goes.
function predictFile(file) {
  if (!file) return;
  pad.clear();
  send(file, file.name);
}

// --- corrections -------------------------------------------------------------------------

// What the person meant: 1 to 12 digits, as the server requires. NFKC turns the full-width
// digits of East Asian keyboards (１２) into ASCII ones.
const LABEL = /^[0-9]{1,12}$/;
const asLabel = (text) => text.normalize("NFKC").trim();

// What the page answered, stored beside the label: the same in either language, so the
// corrections read alike whoever sent them.
function readingText(answer) {
  if (isNumber(answer)) {
    if (answer.number === null) return "not a number";
    return answer.verdict === "digit" ? answer.number : `${answer.number}?`;
  }
  const digit = answer.digits[0];
  if (digit.verdict === "not_a_digit") return "not a digit";
  if (digit.verdict === "unsure") return `${digit.top3[0].digit} or ${digit.top3[1].digit}?`;
  return String(digit.digit);
}

const updateCorrection = (changes) =>
  update({ correction: { ...state.correction, ...changes } });

function typeCorrection(event) {
  const text = event.target.value;
  // An error shown stays until the text is right, rather than vanishing on a keystroke.
  updateCorrection({ text, invalid: state.correction.invalid && !LABEL.test(asLabel(text)) });
}

async function sendCorrection(event) {
  event.preventDefault(); // the page sends it, with the image; no navigation
  const { answer, image, correction } = state;
  if (!answer || correction.sending) return;
  const label = asLabel(correction.text);
  if (!LABEL.test(label)) {
    updateCorrection({ invalid: true, outcome: null });
    $("correction").focus();
    return;
  }
  updateCorrection({ text: label, invalid: false, sending: true, outcome: null });
  const outcome = await postCorrection(image, label, readingText(answer));
  // Stored or not, it was about that reading; a newer one has its own, fresh field.
  if (state.answer !== answer) return;
  updateCorrection({ sending: false, outcome, text: outcome.key === "thanks" ? "" : label });
}

// One round trip to /corrections, returned as the outcome to show.
async function postCorrection({ blob, name }, label, reading) {
  const form = new FormData();
  form.append("image", blob, name);
  form.append("label", label);
  form.append("reading", reading);
  try {
    const response = await fetch("/corrections", { method: "POST", body: form });
    if (response.ok) return { key: "thanks", detail: "" };
    const body = await response.json().catch(() => ({}));
    const key = CORRECTION_REFUSALS[response.status] ?? "correctionFailed";
    return { key, detail: body.error || response.statusText };
  } catch {
    return { key: "network", detail: "" };
  }
}

// --- controls ----------------------------------------------------------------------------

const pad = createPad($("pad"), {
  penWidth: state.penWidth,
  onStrokeEnd: () => { if ($("live").checked) predictPad(); },
});

function clearAll() {
  pad.clear();
  update(cleared);
}

function undo() {
  pad.undo();
  if (pad.isEmpty()) update(cleared);
  else if ($("live").checked) predictPad();
}

function onKey(event) {
  const { tagName, type } = event.target;
  // In a text field the keys are the field's: Enter sends its form, Ctrl+Z undoes typing.
  if (tagName === "INPUT" && type === "text") return;
  // Buttons and links act on Enter themselves; everywhere else Enter means "predict".
  const ownsEnter = ["BUTTON", "A", "SELECT", "TEXTAREA"].includes(tagName) ||
    (tagName === "INPUT" && type === "file");
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape") {
    clearAll();
  } else if (event.key === "Enter" && !ownsEnter) {
    event.preventDefault();
    predictPad();
  }
}

$("lang-toggle").addEventListener("click", toggleLanguage);
$("predict").addEventListener("click", predictPad);
$("clear").addEventListener("click", clearAll);
$("undo").addEventListener("click", undo);
document.addEventListener("keydown", onKey);
if (correctionForm) {
  correctionForm.addEventListener("submit", sendCorrection);
  $("correction").addEventListener("input", typeCorrection);
}

$("pen-width").addEventListener("input", (event) => {
  const penWidth = Number(event.target.value);
  pad.setPenWidth(penWidth);
  update({ penWidth });
});

$("upload").addEventListener("change", (event) => {
  predictFile(event.target.files[0]);
  event.target.value = ""; // choosing the same file again still fires "change"
});

const frame = $("pad").parentElement;
frame.addEventListener("dragover", (event) => {
  event.preventDefault(); // allows the drop
  if (!state.dragging) update({ dragging: true }); // dragover repeats while hovering
});
frame.addEventListener("dragleave", () => update({ dragging: false }));
frame.addEventListener("drop", (event) => {
  event.preventDefault(); // the browser would open the file instead
  update({ dragging: false });
  predictFile(event.dataTransfer.files[0]);
});

render();
