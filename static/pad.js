// The drawing pad: pointer events (mouse, touch, pen), smooth strokes, crisp on high-DPI
// screens, undo by stroke. Ink is black on transparent pixels, as toBlob() exports it.

export function createPad(canvas, { penWidth = 18, onStrokeEnd } = {}) {
  const ctx = canvas.getContext("2d");
  const strokes = []; // each stroke: { width, points: [{x, y}] } in CSS pixels
  let current = null; // the stroke under the pointer, not yet in `strokes`

  function resize() {
    // Back the canvas with device pixels so lines stay sharp on retina screens.
    const ratio = window.devicePixelRatio || 1;
    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.round(rect.width * ratio);
    canvas.height = Math.round(rect.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    redraw();
  }

  function drawStroke({ width, points }) {
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
    if (points.length === 1) { // a tap is a dot
      ctx.beginPath();
      ctx.arc(points[0].x, points[0].y, width / 2, 0, Math.PI * 2);
      ctx.fill();
      return;
    }
    // Quadratic curves through the midpoints smooth the polyline the pointer reports.
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (let i = 1; i < points.length - 1; i++) {
      const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
      ctx.quadraticCurveTo(points[i].x, points[i].y, mid.x, mid.y);
    }
    const end = points[points.length - 1];
    ctx.lineTo(end.x, end.y);
    ctx.stroke();
  }

  // Strokes are the truth; the bitmap is redrawn from them (undo, resize).
  function redraw() {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.restore();
    strokes.forEach(drawStroke);
    if (current) drawStroke(current);
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  function start(event) {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId); // keep the stroke when the pointer leaves
    current = { width: penWidth, points: [point(event)] };
    redraw();
  }

  function move(event) {
    if (!current) return;
    event.preventDefault();
    // Coalesced events carry the points the browser merged between frames: no gaps.
    const events = event.getCoalescedEvents?.() ?? [];
    (events.length ? events : [event]).forEach((e) => current.points.push(point(e)));
    redraw();
  }

  function finish(event) {
    if (!current) return;
    event.preventDefault();
    strokes.push(current);
    current = null;
    redraw();
    onStrokeEnd?.();
  }

  canvas.addEventListener("pointerdown", start);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  window.addEventListener("resize", resize);
  resize();

  return {
    isEmpty: () => strokes.length === 0,
    setPenWidth: (width) => { penWidth = width; },
    undo() { strokes.pop(); redraw(); },
    clear() { strokes.length = 0; current = null; redraw(); },
    toBlob: () => new Promise((resolve) => canvas.toBlob(resolve, "image/png")),
  };
}
