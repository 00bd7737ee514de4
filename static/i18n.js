// Korean and English texts; the browser's language picks one,
// the header button switches. Keys are index.html's data-i18n names and app.js's messages.

export const ko = {
  title: "손글씨 숫자 인식",
  padHeading: "그리기",
  hint: "아래 칸에 숫자를 그리세요 (한 자리도, 여러 자리도 돼요).",
  dropHere: "여기에 이미지를 놓으세요",
  penWidth: "펜 굵기",
  predict: "예측",
  undo: "되돌리기",
  clear: "지우기",
  live: "그리면서 예측",
  upload: "이미지 파일로 예측",
  keys: "Enter 예측 · Esc 지우기 · Ctrl/⌘+Z 되돌리기",
  answerHeading: "결과",
  modelView: "모델이 본 28×28 입력",
  footer: "MNIST로 학습한 CNN · onnxruntime으로 서비스",
  testAccuracy: "테스트 정확도",
  result: (d, p) => `예측: ${d} (확률 ${p}%)`,
  blank: "먼저 숫자를 그려 주세요.",
  unsure: "확실하지 않아요 — 더 크게, 또렷하게 그려 보세요.",
  notADigit: "숫자가 아닌 것 같아요",
  closest: (d) => `가장 가까운 것: ${d}`,
  either: (a, b) => `${a} 또는 ${b}?`,
  number: (n) => `숫자: ${n}`,
  notANumber: "숫자가 아닌 것 같아요",
  unsureDigits: "표시된 숫자는 확실하지 않아요.",
  failed: (msg) => `오류: ${msg}`,
  network: "서버에 연결할 수 없습니다.",
  chartLabel: "확률",
  otherLanguage: "English",
};

export const en = {
  title: "Draw a digit",
  padHeading: "Drawing",
  hint: "Draw a digit, or a number of several digits, in the box below.",
  dropHere: "Drop an image here",
  penWidth: "Pen width",
  predict: "Predict",
  undo: "Undo",
  clear: "Clear",
  live: "Predict as I draw",
  upload: "Predict an image file",
  keys: "Enter predict · Esc clear · Ctrl/⌘+Z undo",
  answerHeading: "Result",
  modelView: "What the model saw (28×28)",
  footer: "CNN trained on MNIST · served with onnxruntime",
  testAccuracy: "test accuracy",
  result: (d, p) => `Prediction: ${d} (${p}%)`,
  blank: "Draw a digit first.",
  unsure: "Not sure — try drawing it larger and clearer.",
  notADigit: "That doesn't look like a digit",
  closest: (d) => `closest: ${d}`,
  either: (a, b) => `${a} or ${b}?`,
  number: (n) => `Number: ${n}`,
  notANumber: "That doesn't look like a number",
  unsureDigits: "The marked digits are uncertain.",
  failed: (msg) => `Error: ${msg}`,
  network: "Cannot reach the server.",
  chartLabel: "probability",
  otherLanguage: "한국어",
};

const TEXTS = { ko, en };

// The text for `key` in `lang`; a function entry is filled in with `args`.
export function t(lang, key, ...args) {
  const entry = TEXTS[lang][key];
  return typeof entry === "function" ? entry(...args) : entry;
}
