/**
 * The loss curves of a detector run (`losses.png` beside its checkpoint): the total loss and
 * its four parts (RPN objectness, RPN boxes, Fast R-CNN classes, Fast R-CNN boxes) against
 * iterations, from the run's JSONL log. Drawn as SVG and rendered by src/train/plot.ts's
 * `writeSvgPng` (the error-% figures there have a fixed 0-100 % axis; losses need their own).
 */
import type { LogRow } from '../../src/train/trainer.ts';
import { CURVE_COLORS, writeSvgPng } from '../../src/train/plot.ts';

/** The logged losses, in drawing order. */
export const LOSS_KEYS = ['loss', 'rpn_cls', 'rpn_box', 'cls', 'box'] as const;

/** The SVG of the loss curves of `rows` (train rows only). */
export function lossCurvesSvg(rows: readonly LogRow[], title: string, width = 560, height = 360): string {
  const train = rows.filter((r) => r.kind === 'train');
  const m = { left: 56, right: 120, top: 32, bottom: 44 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const xMax = Math.max(1, ...train.map((r) => r.step));
  const yMax = Math.max(1e-3, ...train.flatMap((r) => LOSS_KEYS.map((k) => (typeof r[k] === 'number' ? (r[k] as number) : 0))));
  const sx = (x: number) => m.left + (x / xMax) * pw;
  const sy = (y: number) => m.top + ph - (y / yMax) * ph;
  const parts: string[] = [
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${m.left + pw / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`, `<text x="${m.left - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${y.toPrecision(2)}</text>`);
    const x = Math.round((xMax * i) / 4);
    parts.push(`<text x="${sx(x)}" y="${m.top + ph + 16}" text-anchor="middle" font-size="11">${x}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle" font-size="12">iteration</text>`);
  LOSS_KEYS.forEach((k, i) => {
    const pts = train.filter((r) => typeof r[k] === 'number').map((r) => `${sx(r.step).toFixed(1)},${sy(r[k] as number).toFixed(1)}`);
    const color = k === 'loss' ? '#000' : CURVE_COLORS[(i - 1) % CURVE_COLORS.length];
    if (pts.length) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="${k === 'loss' ? 2.4 : 1.2}"/>`);
    parts.push(`<line x1="${m.left + pw + 10}" x2="${m.left + pw + 30}" y1="${m.top + 14 + 18 * i}" y2="${m.top + 14 + 18 * i}" stroke="${color}" stroke-width="2"/>`, `<text x="${m.left + pw + 34}" y="${m.top + 18 + 18 * i}" font-size="12">${k === 'loss' ? 'total' : k}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">${parts.join('')}</svg>`;
}

/** Writes the loss curves of a run's log rows to a PNG. */
export async function writeLossPlot(rows: readonly LogRow[], title: string, file: string): Promise<void> {
  await writeSvgPng(lossCurvesSvg(rows, title), file);
}
