// The page: wires the pad and controls to /predict and shows the answer as text, top-3
// chips, a bar chart of the ten probabilities and the model's-eye view.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const UNSURE_BELOW = 0.5;
  const BAR = "#9db4d6";
  const WINNER = "#d9480f";

  let lang = localStorage.getItem("lang") ||
    ((navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en");
  let last = null; // the last prediction, re-rendered when the language changes
  let lastMessage = null; // or the last message key / error
  let inFlight = null;

  const pad = createPad($("pad"), { onStrokeEnd: () => { if ($("live").checked) predictPad(); } });
  const chart = new Chart($("chart"), {
    type: "bar",
    data: {
      labels: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
      datasets: [{ label: "", data: new Array(10).fill(0), backgroundColor: new Array(10).fill(BAR) }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 200 },
      scales: { y: { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (item) => `${(item.raw * 100).toFixed(2)}%` } },
      },
    },
  });

  // --- language -------------------------------------------------------------------------
  function t(key, ...args) {
    const entry = I18N[lang][key];
    return typeof entry === "function" ? entry(...args) : entry;
  }
  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.title = `${t("title")} · ${lang === "ko" ? "Draw a digit" : "손글씨 숫자 인식"}`;
    $("lang-toggle").textContent = t("otherLanguage");
    chart.data.datasets[0].label = t("chartLabel");
    chart.update("none");
    if (last) showPrediction(last);
    else if (lastMessage) showMessage(lastMessage.key, lastMessage.arg);
  }
  $("lang-toggle").addEventListener("click", () => {
    lang = lang === "ko" ? "en" : "ko";
    localStorage.setItem("lang", lang);
    applyLanguage();
  });

  // --- showing answers ------------------------------------------------------------------
  const percent = (p) => (p * 100).toFixed(2);

  function showPrediction(answer) {
    last = answer;
    lastMessage = null;
    $("result").textContent = t("result", answer.digit, percent(answer.prob));
    $("note").textContent = answer.prob < UNSURE_BELOW ? t("unsure") : "";
    $("top3").replaceChildren(...answer.top3.map((item, rank) => {
      const chip = document.createElement("span");
      chip.className = rank === 0 ? "chip winner" : "chip";
      chip.textContent = `${item.digit} · ${percent(item.prob)}%`;
      return chip;
    }));
    chart.data.datasets[0].data = answer.probs;
    chart.data.datasets[0].backgroundColor = answer.probs.map((_, d) => (d === answer.digit ? WINNER : BAR));
    chart.update();
    if (answer.model_input) {
      $("model-view").src = answer.model_input;
      $("model-view").hidden = false;
    }
  }

  function showMessage(key, arg) {
    last = null;
    lastMessage = { key, arg };
    $("result").textContent = "";
    $("note").textContent = t(key, arg);
  }

  function resetAnswer() {
    last = null;
    lastMessage = null;
    $("result").textContent = "";
    $("note").textContent = "";
    $("top3").replaceChildren();
    chart.data.datasets[0].data = new Array(10).fill(0);
    chart.data.datasets[0].backgroundColor = new Array(10).fill(BAR);
    chart.update();
    $("model-view").hidden = true;
    $("model-view").removeAttribute("src");
  }

  // --- talking to the server ------------------------------------------------------------
  async function send(blob, name) {
    if (inFlight) inFlight.abort(); // only the newest drawing's answer matters
    const controller = new AbortController();
    inFlight = controller;
    const form = new FormData();
    form.append("image", blob, name);
    $("predict").setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/predict?include=model_input", { method: "POST", body: form, signal: controller.signal });
      const body = await response.json().catch(() => ({ error: response.statusText }));
      if (response.ok) showPrediction(body);
      else if (response.status === 422) showMessage("blank");
      else showMessage("failed", body.error || response.statusText);
    } catch (error) {
      if (error.name !== "AbortError") showMessage("network");
    } finally {
      if (inFlight === controller) {
        inFlight = null;
        $("predict").removeAttribute("aria-busy");
      }
    }
  }

  async function predictPad() {
    if (pad.isEmpty()) { // never answer for an empty pad
      resetAnswer();
      showMessage("blank");
      return;
    }
    await send(await pad.toBlob(), "canvas.png");
  }

  // --- controls -------------------------------------------------------------------------
  const penWidth = $("pen-width");
  penWidth.addEventListener("input", () => {
    pad.setPenWidth(Number(penWidth.value));
    $("pen-width-value").textContent = penWidth.value;
  });
  pad.setPenWidth(Number(penWidth.value));

  function clearAll() { pad.clear(); resetAnswer(); }
  function undo() {
    pad.undo();
    if (pad.isEmpty()) resetAnswer();
    else if ($("live").checked) predictPad();
  }

  $("predict").addEventListener("click", predictPad);
  $("clear").addEventListener("click", clearAll);
  $("undo").addEventListener("click", undo);

  document.addEventListener("keydown", (event) => {
    // Buttons and links act on Enter themselves; everywhere else Enter means "predict".
    const ownsEnter = ["BUTTON", "A", "SELECT", "TEXTAREA"].includes(event.target.tagName) ||
      (event.target.tagName === "INPUT" && event.target.type === "file");
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    } else if (event.key === "Escape") {
      clearAll();
    } else if (event.key === "Enter" && !ownsEnter) {
      event.preventDefault();
      predictPad();
    }
  });

  // An image file: chosen with the file input or dropped on the pad.
  $("upload").addEventListener("change", () => {
    const file = $("upload").files[0];
    if (file) { pad.clear(); send(file, file.name); }
    $("upload").value = "";
  });
  const frame = $("pad").parentElement;
  frame.addEventListener("dragover", (event) => {
    event.preventDefault();
    $("drop-note").hidden = false;
  });
  frame.addEventListener("dragleave", () => { $("drop-note").hidden = true; });
  frame.addEventListener("drop", (event) => {
    event.preventDefault();
    $("drop-note").hidden = true;
    const file = event.dataTransfer.files[0];
    if (file) { pad.clear(); send(file, file.name); }
  });

  applyLanguage();
})();
