/**
 * Draws precision-recall plots (./pr-curves.ts) as SVG and writes them as PNG through
 * src/train/plot.ts `writeSvgPng` (sharp / librsvg), one file per plot:
 *
 *     <dir>/pr-overall.png                 every class together
 *     <dir>/pr-<nn>-<class>.png            one per class with GT, nn = its 1-based class position
 *
 * Each plot: recall (x) and precision (y) from 0 to 1 with a 0.1 grid, the title and a note on
 * what was averaged, and a legend in the lower left whose labels carry the APs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { CURVE_COLORS, writeSvgPng } from '../train/plot.ts';
import type { PrPlot, PrPlots } from './pr-curves.ts';

/** Size of a PR plot in pixels. */
export interface PrPlotOptions {
  /** default 640 */
  width?: number;
  /** default 560 */
  height?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The SVG of one plot. */
export function prPlotSvg(plot: PrPlot, opts: PrPlotOptions = {}): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 560;
  const margin = { left: 64, right: 24, top: 62, bottom: 56 };
  const pw = W - margin.left - margin.right;
  const ph = H - margin.top - margin.bottom;
  const sx = (r: number): number => margin.left + Math.min(1, Math.max(0, r)) * pw;
  const sy = (p: number): number => margin.top + ph - Math.min(1, Math.max(0, p)) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(plot.title)}</text>`);
  parts.push(`<text x="${W / 2}" y="44" text-anchor="middle" font-size="11" fill="#555">${esc(plot.note)}</text>`);
  for (let i = 0; i <= 10; i++) {
    const v = i / 10;
    const dash = i === 0 || i === 10 ? '' : ' stroke-dasharray="3,3"';
    parts.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${sy(0)}" y2="${sy(1)}" stroke="#ddd"${dash}/>`);
    parts.push(`<line x1="${sx(0)}" x2="${sx(1)}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"${dash}/>`);
    parts.push(`<text x="${sx(v)}" y="${sy(0) + 18}" text-anchor="middle" font-size="12">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${sx(0) - 8}" y="${sy(v) + 4}" text-anchor="end" font-size="12">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${sx(0)}" y="${sy(1)}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`);
  parts.push(`<text x="${margin.left + pw / 2}" y="${H - 14}" text-anchor="middle" font-size="13">recall</text>`);
  parts.push(`<text transform="translate(${margin.left - 44} ${margin.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">precision</text>`);
  const colored = plot.curves.map((c, i) => ({ c, color: c.style === 'thin' ? '#999' : CURVE_COLORS[i % CURVE_COLORS.length] }));
  // thin curves first, so the main ones are drawn on top
  for (const style of ['thin', 'main'] as const) {
    for (const { c, color } of colored.filter((e) => e.c.style === style && e.c.recall.length > 0)) {
      const d = c.recall.map((r, i) => `${i ? 'L' : 'M'}${sx(r).toFixed(1)},${sy(c.precision[i]).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${style === 'main' ? 2.4 : 1}" stroke-linejoin="round"/>`);
    }
  }
  if (plot.curves.length === 0) {
    parts.push(`<text x="${margin.left + pw / 2}" y="${margin.top + ph / 2}" text-anchor="middle" font-size="14" fill="#555">no class has ground truth</text>`);
  } else {
    // legend in the lower left, where a precision-recall curve rarely runs
    const lh = 20;
    const longest = Math.max(...plot.curves.map((c) => c.label.length));
    const bw = Math.min(pw - 16, 44 + 7.2 * longest);
    const bh = 10 + lh * plot.curves.length;
    const bx = sx(0) + 10;
    const by = sy(0) - 10 - bh;
    parts.push(`<rect x="${bx}" y="${by}" width="${bw}" height="${bh}" fill="#fff" fill-opacity="0.9" stroke="#999"/>`);
    colored.forEach(({ c, color }, i) => {
      const y = by + 5 + lh * i + lh / 2;
      parts.push(`<line x1="${bx + 8}" x2="${bx + 34}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="${c.style === 'main' ? 2.4 : 1}"/>`);
      parts.push(`<text x="${bx + 40}" y="${y + 4}" font-size="12">${esc(c.label)}</text>`);
    });
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>`;
}

/** A class name as a file-name part: lower case, runs of other characters as one '-'. */
function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'class';
}

/**
 * The file names of a set of plots, in order: `pr-overall.png`, then `pr-<nn>-<class>.png` with
 * nn the class's 1-based position in `classNames` (zero-padded), so names are unique and sort in
 * class order.
 * @param classNames the full class list (COCO: categories by ascending id)
 */
export function prPlotFileNames(plots: PrPlots, classNames: readonly string[]): string[] {
  const width = String(classNames.length).length;
  const position = new Map(classNames.map((n, i) => [n, i + 1]));
  return ['pr-overall.png', ...plots.perClass.map((p) => `pr-${String(position.get(p.className) ?? 0).padStart(width, '0')}-${slug(p.className)}.png`)];
}

/**
 * Checks that `dir` is a folder or can be made one (creating it), before an evaluation runs.
 * @throws UserError naming `field` (e.g. `--plot`) when `dir` is a file or cannot be created
 */
export function preparePlotDir(dir: string, field = 'plotDir'): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch {
    // ENOTDIR and the like: mkdirSync below fails with the same code and says so
  }
  if (st && !st.isDirectory()) throw new UserError(`${field}: expected a folder for the plots, got ${JSON.stringify(dir)}, which is a file`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new UserError(`${field}: cannot create or write the folder ${JSON.stringify(dir)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * Writes every plot as a PNG into `dir` (created when missing).
 * @param classNames the full class list, for the file names ({@link prPlotFileNames})
 * @returns the paths written, overall first
 */
export async function writePrPlots(dir: string, plots: PrPlots, classNames: readonly string[], opts: PrPlotOptions = {}): Promise<string[]> {
  preparePlotDir(dir);
  const names = prPlotFileNames(plots, classNames);
  const all = [plots.overall, ...plots.perClass];
  const files = names.map((n) => path.join(dir, n));
  for (let i = 0; i < all.length; i++) await writeSvgPng(prPlotSvg(all[i], opts), files[i]);
  return files;
}
