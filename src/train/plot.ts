/**
 * Training curves as the paper draws them (Figures 1, 4 and 6): error (%) against iterations,
 * thin lines for training error and bold lines for test error, one colour per network, one
 * panel per family (e.g. plain nets left, ResNets right). Written as SVG and rendered to PNG by
 * sharp (librsvg).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { LogRow } from './trainer.ts';

/** One line of a plot. */
export interface Curve {
  label: string;
  /** [iteration, error in 0..1] */
  points: Array<[number, number]>;
  /** 'train' = thin, 'test' = bold (the paper's convention) */
  style: 'train' | 'test';
  color: string;
}

export interface Panel {
  title: string;
  curves: Curve[];
}

export interface PlotOptions {
  /** one panel's size in pixels; default 480 x 390 */
  panelWidth?: number;
  panelHeight?: number;
  /** top of the error axis in %, curves above it cut at the frame; default: the largest error rounded up to 10 */
  yMaxPercent?: number;
}

/** Distinct colours, in the order the paper's figures use them (cyan, red, green, ...). */
export const CURVE_COLORS = ['#e8a33d', '#1f9ad6', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/**
 * Curves of one run from its metrics log: training error (mean per logged window) and the
 * error of each evaluation (`metric`, default 'test_error').
 */
export function curvesFromLog(rows: LogRow[], label: string, color: string, metric = 'test_error'): Curve[] {
  const train = rows.filter((r) => r.kind === 'train' && typeof r.error === 'number').map((r) => [r.step, r.error as number] as [number, number]);
  const test = rows.filter((r) => r.kind === 'eval' && typeof r[metric] === 'number').map((r) => [r.step, r[metric] as number] as [number, number]);
  return [
    { label, points: train, style: 'train', color },
    { label, points: test, style: 'test', color },
  ];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" tick step for a range (1, 2 or 5 times a power of ten). */
function tickStep(range: number, target: number): number {
  const raw = range / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
}

/** Formats an iteration count as the paper's axis does, e.g. 32000 -> "3.2" on a 1e4 axis. */
function iterLabel(v: number, unit: number): string {
  return String(Number((v / unit).toPrecision(3)));
}

/** The SVG of panels side by side sharing one y range. */
export function errorCurvesSvg(panels: Panel[], opts: PlotOptions = {}): string {
  const W = opts.panelWidth ?? 480;
  const H = opts.panelHeight ?? 390;
  const margin = { left: 56, right: 16, top: 32, bottom: 76 };
  const all = panels.flatMap((p) => p.curves.flatMap((c) => c.points));
  const maxErr = Math.max(0.01, ...all.map(([, e]) => e));
  const yMax = opts.yMaxPercent ?? Math.min(100, Math.ceil((maxErr * 100) / 10) * 10);
  const xMax = Math.max(1, ...all.map(([x]) => x));
  const unit = xMax >= 20000 ? 1e4 : xMax >= 2000 ? 1e3 : 1;
  const xStep = tickStep(xMax, 6);
  const yStep = tickStep(yMax, 5);
  const pw = W - margin.left - margin.right;
  const ph = H - margin.top - margin.bottom;
  const parts: string[] = [];
  panels.forEach((panel, k) => {
    const ox = k * W + margin.left;
    const oy = margin.top;
    const sx = (x: number): number => ox + (x / xMax) * pw;
    const sy = (e: number): number => oy + ph - ((e * 100) / yMax) * ph;
    parts.push(`<text x="${ox + pw / 2}" y="${oy - 12}" text-anchor="middle" font-size="15" font-weight="bold">${esc(panel.title)}</text>`);
    for (let y = 0; y <= yMax + 1e-9; y += yStep) {
      parts.push(`<line x1="${ox}" x2="${ox + pw}" y1="${sy(y / 100)}" y2="${sy(y / 100)}" stroke="#ddd" stroke-dasharray="${y === 0 ? '' : '3,3'}"/>`);
      parts.push(`<text x="${ox - 6}" y="${sy(y / 100) + 4}" text-anchor="end" font-size="12">${Number(y.toPrecision(3))}</text>`);
    }
    for (let x = 0; x <= xMax + 1e-9; x += xStep) {
      parts.push(`<line x1="${sx(x)}" x2="${sx(x)}" y1="${oy + ph}" y2="${oy + ph + 4}" stroke="#000"/>`);
      parts.push(`<text x="${sx(x)}" y="${oy + ph + 18}" text-anchor="middle" font-size="12">${iterLabel(x, unit)}</text>`);
    }
    parts.push(`<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`);
    parts.push(`<text x="${ox + pw / 2}" y="${oy + ph + 38}" text-anchor="middle" font-size="13">iter.${unit > 1 ? ` (1e${Math.log10(unit)})` : ''}</text>`);
    parts.push(`<text transform="translate(${ox - 40} ${oy + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">error (%)</text>`);
    // training curves first, so the bold test curves are drawn on top; cut at the frame (a
    // curve above yMaxPercent leaves the picture there, as in the paper's zoomed figures)
    parts.push(`<clipPath id="frame${k}"><rect x="${ox}" y="${oy}" width="${pw}" height="${ph}"/></clipPath>`, `<g clip-path="url(#frame${k})">`);
    for (const style of ['train', 'test'] as const) {
      for (const c of panel.curves.filter((cv) => cv.style === style && cv.points.length)) {
        const d = c.points.map(([x, e], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(e).toFixed(1)}`).join(' ');
        parts.push(`<path d="${d}" fill="none" stroke="${c.color}" stroke-width="${style === 'test' ? 2.6 : 1}" stroke-linejoin="round"/>`);
        if (c.points.length === 1) parts.push(`<circle cx="${sx(c.points[0][0])}" cy="${sy(c.points[0][1])}" r="${style === 'test' ? 3 : 1.5}" fill="${c.color}"/>`);
      }
    }
    parts.push('</g>');
    // legend below the axis label (training curves start high, so inside the frame it would
    // cover them): one bold swatch per network, then the thin/bold key
    const labels = [...new Map(panel.curves.map((c) => [c.label, c.color])).entries()];
    const ly = oy + ph + 62;
    let lx = ox;
    for (const [label, color] of labels) {
      parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2.6"/>`);
      parts.push(`<text x="${lx + 27}" y="${ly}" font-size="12">${esc(label)}</text>`);
      lx += 40 + 7 * label.length;
    }
    parts.push(`<text x="${ox + pw}" y="${ly}" text-anchor="end" font-size="11" fill="#444">thin: train, bold: test</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" viewBox="0 0 ${W * panels.length} ${H}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>`;
}

/** Renders an SVG to a PNG file (temp file + rename, so a reader never sees half a PNG). */
export async function writeSvgPng(svg: string, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, png);
  fs.renameSync(tmp, file);
}
