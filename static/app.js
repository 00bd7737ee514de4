// The page: wires the pad and controls to /predict?read=number and shows the answer as
// text, chips (the top three for one digit, one per digit for a number), a bar chart of
// the ten probabilities and the model's-eye view of every digit.
//
// One rule keeps the views in step: event handlers only change `state` (through update())
// and render() alone draws the page from it, so a language switch or a new answer can
// never leave one view showing something the others do not.
import { createPad } from "./pad.js";
import { REFUSALS, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const BAR = "#9db4d6";
const WINNER = "#c2410c"; // style.css's --accent
const MUTED = "#c8ccd2"; // bars and winner when the verdict is not "digit"
const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const state = {
  lang: initialLanguage(), // "ko" | "en"
  answer: null, // the last /predict?read=number body: { number, value, verdict, reason,
  //              count, digits: [{ digit, prob, probs, top3, is_digit, verdict, box,
  //              model_input }], parts: [{ kind, box, digit }] }
  selected: 0, // the digit of a number whose probabilities the chart shows
  message: null, // or, in its place, a message: { key, detail } (blank pad, an error; the
  //                detail is the server's own sentence, if any)
  busy: false, // a request is in flight
  dragging: false, // a file is being dragged over the pad
  penWidth: Number($("pen-width").value),
};

// The answer area's two states, as update() arguments.
const cleared = { answer: null, message: null };
const answered = (answer) => ({ answer, message: null, selected: 0 });
const told = (key, detail = "") => ({ answer: null, message: { key, detail } });

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
    if (response.ok) return answered(body);
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
  // Buttons and links act on Enter themselves; everywhere else Enter means "predict".
  const { tagName, type } = event.target;
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
