// @ts-check
// A small SVG time-series chart: one line over time buckets, a dot per bucket with its value as a
// tooltip, the y range and the time span as labels. Built with createElementNS, text only.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 160;
const PAD = { left: 52, right: 12, top: 10, bottom: 22 };

/**
 * @typedef {{ t: number, v: number, label?: string }} ChartPoint
 */

/**
 * @param {string} tag
 * @param {{ [name: string]: string | number }} [attrs]
 * @param {string} [text]
 */
function el(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * points: [{t: epoch seconds, v: number, label: tooltip text}], oldest first. The axis shows
 * bare numbers (the unit belongs in the chart's title); `format` writes a value in a tooltip.
 * @param {ChartPoint[]} points
 * @param {{ format?: (v: number) => string }} [options]
 */
export function lineChart(points, { format = tickLabel } = {}) {
  const svg = el("svg", { class: "chart", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", preserveAspectRatio: "none" });
  if (!points.length) return svg;
  const t0 = points[0].t;
  const t1 = points[points.length - 1].t;
  let lo = Math.min(...points.map((p) => p.v));
  let hi = Math.max(...points.map((p) => p.v));
  if (lo === hi) {
    lo = lo > 0 ? 0 : lo - 1;
    hi = hi + (hi === 0 ? 1 : Math.abs(hi) * 0.1);
  }
  /** @param {number} t */
  const x = (t) => PAD.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (WIDTH - PAD.left - PAD.right);
  /** @param {number} v */
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (HEIGHT - PAD.top - PAD.bottom);

  svg.append(
    el("line", { class: "axis", x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: HEIGHT - PAD.bottom }),
    el("line", { class: "axis", x1: PAD.left, y1: HEIGHT - PAD.bottom, x2: WIDTH - PAD.right, y2: HEIGHT - PAD.bottom }),
    el("text", { class: "tick", x: PAD.left - 6, y: PAD.top + 4, "text-anchor": "end" }, tickLabel(hi)),
    el("text", { class: "tick", x: PAD.left - 6, y: HEIGHT - PAD.bottom, "text-anchor": "end" }, tickLabel(lo)),
    el("text", { class: "tick", x: PAD.left, y: HEIGHT - 6 }, clock(t0)),
    el("text", { class: "tick", x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end" }, clock(t1)),
  );
  svg.append(el("polyline", { class: "series", points: points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ") }));
  for (const p of points) {
    const dot = el("circle", { class: "point", cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 3 });
    dot.append(el("title", {}, p.label ?? format(p.v)));
    svg.append(dot);
  }
  return svg;
}

/** 4 significant digits at most, no trailing zeros: 1.1, 13.75, 12000, 0.0035. */
/** @param {number} v */
function tickLabel(v) {
  return String(Number(v.toPrecision(4)));
}

/** @param {number} t epoch seconds */
function clock(t) {
  const d = new Date(t * 1000);
  return d.toTimeString().slice(0, 8);
}
