// A small dependency-free SVG line chart for the benchmark scripts: linear or
// log axes, several series, a legend. Benchmarks render their results with it
// so that the README charts look alike and need nothing from npm.
//
//   import { lineChart, panels } from './lib/svg-chart.mjs';
//   const svg = lineChart({
//     title: 'select(0), A = 1', xLabel: 'registered fds (N)', yLabel: 'ns per call',
//     xLog: true, yLog: true, yFormat: formatNs,
//     series: [{ name: 'C poll', color: '#1f77b4', dash: 'solid', points: [[1, 380], [10, 830]] }],
//   });
//   fs.writeFileSync('chart.svg', panels([svg, svg2], { columns: 2, title: '…' }));

const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';
const DASHES = { solid: '', dash: '8 4', dot: '2 3', dashdot: '8 3 2 3' };
const MARKERS = ['circle', 'square', 'triangle', 'diamond'];
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

export function escapeXml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** 1234 -> "1.2k", 1e6 -> "1M": short tick labels. */
export function formatSi(v) {
  const a = Math.abs(v);
  const units = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [f, u] of units) if (a >= f) return trim(v / f) + u;
  return trim(v);
}

/** Nanoseconds as "850 ns", "1.2 µs", "3 ms". */
export function formatNs(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return trim(v / 1e9) + ' s';
  if (a >= 1e6) return trim(v / 1e6) + ' ms';
  if (a >= 1e3) return trim(v / 1e3) + ' µs';
  return trim(v) + ' ns';
}

function trim(v) {
  const r = Math.abs(v) >= 100 ? Math.round(v) : Math.abs(v) >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
  return String(r);
}

// An axis maps data values to [0, 1] and proposes ticks.
function makeAxis(values, log, forceZero) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (log) {
    if (lo <= 0) throw new RangeError('log axis needs positive values');
    let l = Math.floor(Math.log10(lo));
    let h = Math.ceil(Math.log10(hi));
    if (h === l) h = l + 1;
    const ticks = [];
    const minor = [];
    for (let e = l; e <= h; e++) {
      ticks.push(10 ** e);
      // On a short range, label the 2 and 5 steps too so the axis is readable.
      for (const m of [2, 3, 4, 5, 6, 7, 8, 9]) if (e < h) minor.push({ v: m * 10 ** e, label: h - l <= 2 && (m === 2 || m === 5) });
    }
    return { map: (v) => (Math.log10(v) - l) / (h - l), ticks, minor };
  }
  if (forceZero) lo = Math.min(lo, 0);
  if (hi === lo) hi = lo + 1;
  const span = hi - lo;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const start = Math.floor(lo / step) * step;
  const end = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { map: (v) => (v - start) / (end - start), ticks, minor: [] };
}

function marker(kind, x, y, color) {
  const r = 3.2;
  const p = `fill="${color}" stroke="white" stroke-width="0.8"`;
  switch (kind) {
    case 'square':
      return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" ${p}/>`;
    case 'triangle':
      return `<path d="M${f(x)},${f(y - r * 1.2)} L${f(x + r * 1.1)},${f(y + r * 0.9)} L${f(x - r * 1.1)},${f(y + r * 0.9)} Z" ${p}/>`;
    case 'diamond':
      return `<path d="M${f(x)},${f(y - r * 1.3)} L${f(x + r * 1.3)},${f(y)} L${f(x)},${f(y + r * 1.3)} L${f(x - r * 1.3)},${f(y)} Z" ${p}/>`;
    default:
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" ${p}/>`;
  }
}

const f = (v) => (Math.round(v * 10) / 10).toString();

/**
 * A line chart as a standalone <svg> string.
 * opts: title, xLabel, yLabel, xLog, yLog, width (720), height (480),
 *   xFormat / yFormat (tick label functions), legendColumns (1),
 *   series: [{ name, points: [[x, y], ...], color?, dash?: 'solid'|'dash'|'dot'|'dashdot', marker? }]
 * Points with a missing or non-positive (on a log axis) value are skipped.
 */
export function lineChart(opts) {
  const width = opts.width ?? 720;
  const height = opts.height ?? 480;
  const xFormat = opts.xFormat ?? formatSi;
  const yFormat = opts.yFormat ?? formatSi;
  const ok = (v, log) => Number.isFinite(v) && (!log || v > 0);
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length],
    dash: s.dash ?? 'solid',
    marker: s.marker ?? MARKERS[i % MARKERS.length],
    points: s.points.filter(([x, y]) => ok(x, opts.xLog) && ok(y, opts.yLog)).sort((p, q) => p[0] - q[0]),
  }));
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) throw new RangeError('lineChart: no points to draw');
  const xa = makeAxis(all.map((p) => p[0]), !!opts.xLog, false);
  const ya = makeAxis(all.map((p) => p[1]), !!opts.yLog, !opts.yLog);

  // The legend goes below the plot, in as many columns as asked.
  const cols = opts.legendColumns ?? 1;
  const legendRows = Math.ceil(series.length / cols);
  const legendH = legendRows * 18 + 8;
  const m = { left: 78, right: 20, top: opts.title ? 40 : 16, bottom: 56 + legendH };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  if (ph < 60) throw new RangeError('lineChart: too many series for the height; raise height or legendColumns');
  const X = (v) => m.left + xa.map(v) * pw;
  const Y = (v) => m.top + (1 - ya.map(v)) * ph;

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (opts.title) out.push(`<text x="${f(width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(opts.title)}</text>`);

  // Grid and ticks.
  out.push('<g stroke="#e4e4e4" stroke-width="1">');
  for (const t of xa.minor) out.push(`<line x1="${f(X(t.v))}" y1="${m.top}" x2="${f(X(t.v))}" y2="${m.top + ph}" stroke="#f2f2f2"/>`);
  for (const t of ya.minor) out.push(`<line x1="${m.left}" y1="${f(Y(t.v))}" x2="${m.left + pw}" y2="${f(Y(t.v))}" stroke="#f2f2f2"/>`);
  for (const t of xa.ticks) out.push(`<line x1="${f(X(t))}" y1="${m.top}" x2="${f(X(t))}" y2="${m.top + ph}"/>`);
  for (const t of ya.ticks) out.push(`<line x1="${m.left}" y1="${f(Y(t))}" x2="${m.left + pw}" y2="${f(Y(t))}"/>`);
  out.push('</g>');
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<g font-size="12" fill="#222" ${FONT}>`);
  for (const t of xa.ticks) {
    out.push(`<line x1="${f(X(t))}" y1="${m.top + ph}" x2="${f(X(t))}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${f(X(t))}" y="${m.top + ph + 19}" text-anchor="middle">${escapeXml(xFormat(t))}</text>`);
  }
  for (const t of ya.ticks) {
    out.push(`<line x1="${m.left - 5}" y1="${f(Y(t))}" x2="${m.left}" y2="${f(Y(t))}" stroke="#333"/>`);
    out.push(`<text x="${m.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end">${escapeXml(yFormat(t))}</text>`);
  }
  for (const t of ya.minor.filter((t) => t.label)) {
    out.push(`<text x="${m.left - 8}" y="${f(Y(t.v) + 4)}" text-anchor="end" fill="#777" font-size="10">${escapeXml(yFormat(t.v))}</text>`);
  }
  out.push('</g>');
  if (opts.xLabel) out.push(`<text x="${f(m.left + pw / 2)}" y="${m.top + ph + 40}" text-anchor="middle" font-size="13" ${FONT}>${escapeXml(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = m.top + ph / 2;
    out.push(`<text x="18" y="${f(cy)}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${f(cy)})" ${FONT}>${escapeXml(opts.yLabel)}</text>`);
  }

  // Series.
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${f(X(x))},${f(Y(y))}`).join(' ');
    const dash = DASHES[s.dash] ?? s.dash;
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    for (const [x, y] of s.points) out.push(marker(s.marker, X(x), Y(y), s.color));
  }

  // Legend.
  const colW = pw / cols;
  const ly0 = m.top + ph + 56;
  out.push(`<g font-size="12" ${FONT}>`);
  series.forEach((s, i) => {
    const lx = m.left + (i % cols) * colW;
    const ly = ly0 + Math.floor(i / cols) * 18;
    const dash = DASHES[s.dash] ?? s.dash;
    out.push(`<line x1="${f(lx)}" y1="${ly}" x2="${f(lx + 30)}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(marker(s.marker, lx + 15, ly, s.color));
    out.push(`<text x="${f(lx + 38)}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}

/** Several charts (standalone <svg> strings of the same size) side by side in one SVG. */
export function panels(svgs, { columns = svgs.length, title, footer } = {}) {
  const size = (svg) => {
    const w = /width="([\d.]+)"/.exec(svg);
    const h = /height="([\d.]+)"/.exec(svg);
    return [Number(w[1]), Number(h[1])];
  };
  const [w, h] = size(svgs[0]);
  const top = title ? 34 : 0;
  const bottom = footer ? 22 : 0;
  const rows = Math.ceil(svgs.length / columns);
  const W = w * columns;
  const H = h * rows + top + bottom;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  if (title) out.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="18" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`);
  svgs.forEach((svg, i) => {
    // Nested <svg> elements keep each chart's own coordinate system.
    const x = (i % columns) * w;
    const y = top + Math.floor(i / columns) * h;
    out.push(svg.replace('<svg ', `<svg x="${x}" y="${y}" `));
  });
  if (footer) out.push(`<text x="${W / 2}" y="${H - 7}" text-anchor="middle" font-size="11" fill="#555" ${FONT}>${escapeXml(footer)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/**
 * A horizontal bar chart as a standalone <svg> string: one bar per row, the
 * value printed at its end. opts: title, xLabel, width (720), height (auto),
 * format (value labels), bars: [{ name, value, color? }], marker?: { value, label }
 * (a dashed vertical reference line, e.g. a target).
 */
export function barChart(opts) {
  const { title, xLabel, bars, marker } = opts;
  const format = opts.format ?? formatSi;
  const width = opts.width ?? 720;
  const rowH = 26;
  const left = 170;
  const right = 90;
  const top = title ? 40 : 14;
  const bottom = xLabel ? 44 : 24;
  const height = opts.height ?? top + bottom + rowH * bars.length;
  const max = Math.max(...bars.map((b) => b.value).filter((v) => Number.isFinite(v)), marker?.value ?? 0) || 1;
  const plotW = width - left - right;
  const x = (v) => left + (plotW * v) / max;
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`, `<rect width="${width}" height="${height}" fill="white"/>`];
  if (title) out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end" font-size="12" ${FONT}>${escapeXml(b.name)}</text>`);
    if (Number.isFinite(b.value)) {
      out.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${rowH - 8}" fill="${b.color ?? '#1f77b4'}"/>`);
      out.push(`<text x="${(x(b.value) + 5).toFixed(1)}" y="${y + rowH / 2 + 4}" font-size="11" ${FONT}>${escapeXml(format(b.value))}</text>`);
    } else {
      out.push(`<text x="${left + 5}" y="${y + rowH / 2 + 4}" font-size="11" fill="#888" ${FONT}>n/a</text>`);
    }
  });
  const axisY = top + rowH * bars.length;
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#333"/>`);
  if (marker) {
    const mx = x(marker.value).toFixed(1);
    out.push(`<line x1="${mx}" y1="${top}" x2="${mx}" y2="${axisY}" stroke="#d62728" stroke-dasharray="5,4"/>`);
    if (marker.label) out.push(`<text x="${mx}" y="${axisY + 14}" text-anchor="middle" font-size="10" fill="#d62728" ${FONT}>${escapeXml(marker.label)}</text>`);
  }
  if (xLabel) out.push(`<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(xLabel)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}
