// Korean and English texts; the browser's language picks one,
// the header button switches. Keys are index.html's data-i18n (text) and data-i18n-label
// (aria-label) names and app.js's messages.

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
  padLabel: "그리기 칸",
  chipsLabel: "상위 3개 또는 자리별 숫자",
  chartAlt: "0–9 각 숫자의 확률",
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
  noImage: "이미지를 받지 못했어요. 다시 보내 주세요.",
  tooSlow: "업로드가 너무 오래 걸려 중단됐어요. 다시 해 보세요.",
  tooLarge: "이미지가 너무 커요. 더 작은 이미지를 보내 주세요.",
  notAnImage: "읽을 수 있는 이미지가 아니에요. PNG, JPEG, GIF, BMP, WebP, TIFF 파일을 보내 주세요.",
  tooMany: "요청이 너무 많아요. 잠시 후 다시 해 보세요.",
  busy: "서버가 바빠요. 잠시 후 다시 해 보세요.",
  failed: "서버가 이 요청에 답하지 못했어요.",
  network: "서버에 연결할 수 없습니다.",
  chartLabel: "확률",
  correctionLabel: "틀렸나요? 원래 숫자:",
  sendCorrection: "보내기",
  correctionInvalid: "숫자만 1~12자리로 적어 주세요.",
  thanks: "고마워요!",
  correctionRefused: "서버가 이 정정을 받지 않았어요.",
  correctionsFull: "정정 보관함이 가득 차서 더 받을 수 없어요.",
  correctionsOff: "이 서버는 정정을 받지 않아요.",
  correctionsTooMany: "정정을 너무 많이 보냈어요. 잠시 후 다시 해 보세요.",
  correctionsUnavailable: "지금은 정정을 저장할 수 없어요. 잠시 후 다시 해 보세요.",
  correctionFailed: "정정을 보내지 못했어요.",
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
  padLabel: "Drawing pad",
  chipsLabel: "Top three, or each digit",
  chartAlt: "Probability of each digit 0–9",
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
  noImage: "The server got no image; send it again.",
  tooSlow: "The upload took too long and was cut off; try again.",
  tooLarge: "The image is too large; send a smaller one.",
  notAnImage: "That is not an image the server can read: send a PNG, JPEG, GIF, BMP, WebP or TIFF file.",
  tooMany: "Too many requests; try again in a moment.",
  busy: "The server is busy; try again in a moment.",
  failed: "The server could not answer this request.",
  network: "Cannot reach the server.",
  chartLabel: "probability",
  correctionLabel: "Wrong? It was:",
  sendCorrection: "Send",
  correctionInvalid: "Type digits only, 1 to 12 of them.",
  thanks: "Thanks!",
  correctionRefused: "The server did not take this correction.",
  correctionsFull: "The corrections store is full and takes no more.",
  correctionsOff: "This server does not take corrections.",
  correctionsTooMany: "Too many corrections; try again in a moment.",
  correctionsUnavailable: "Corrections cannot be saved right now; try again later.",
  correctionFailed: "The correction could not be sent.",
  otherLanguage: "한국어",
};

const TEXTS = { ko, en };

// The message key for each status /predict refuses an upload with (README, "Errors"); 429
// and 503 come from what may stand in front of the server. Any other status: "failed".
// 422 (a blank drawing) has its own, gentler answer in app.js.
export const REFUSALS = {
  400: "noImage",
  408: "tooSlow",
  413: "tooLarge",
  415: "notAnImage",
  429: "tooMany",
  503: "busy",
};

// The same for POST /corrections: 403 is a full store (waiting will not help), 404 a server
// that takes none; a reused key reads the same for either request.
export const CORRECTION_REFUSALS = {
  400: "correctionRefused",
  403: "correctionsFull",
  404: "correctionsOff",
  408: "tooSlow",
  413: "tooLarge",
  415: "notAnImage",
  429: "correctionsTooMany",
  503: "correctionsUnavailable",
};

// The text for `key` in `lang`; a function entry is filled in with `args`.
export function t(lang, key, ...args) {
  const entry = TEXTS[lang][key];
  return typeof entry === "function" ? entry(...args) : entry;
}
