/**
 * The per-class table of an evaluation as CSV or Markdown: COCO (class, id, AP, AP50, AP75, APs,
 * APm, APl, AR100, as pycocotools' summary defines them, per category) and VOC (class, GT,
 * difficult, detections, AP07, AP area). Pure: results in, text out.
 *
 * Values are fractions in [0, 1]. CSV keeps full precision (numbers read back to the same
 * double); Markdown rounds to 4 decimals. An entry without eligible GT (pycocotools' -1, e.g. APl
 * of a class with no large object) is an empty CSV field and `n/a` in Markdown; voc_eval's NaN
 * (detections but no non-difficult GT) is `nan` in both.
 */
import { UserError } from '../errors.ts';
import type { CocoEvalResult } from './coco-evaluator.ts';
import { statSpecs } from './coco-summary.ts';
import { npMean } from './numpy.ts';
import type { VocEvalResult } from './voc.ts';

/** The table formats. */
export const TABLE_FORMATS = ['csv', 'md'] as const;
/** One of TABLE_FORMATS: comma-separated values or a markdown table. */
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** A table: header and rows; a number cell is a metric (formatted per format), a string is text. */
export interface Table {
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** Checks a format name (library callers; the CLI parses its flag with the same list). */
export function tableFormat(text: string, field = 'format'): TableFormat {
  if (!(TABLE_FORMATS as readonly string[]).includes(text)) throw new UserError(`${field}: expected ${TABLE_FORMATS.join(' or ')}, got ${JSON.stringify(text)}`);
  return text as TableFormat;
}

/**
 * COCO per-category table: one row per category (ascending id), then `all` with the summary's
 * stats. AP is over IoU 0.50:0.95; APs/APm/APl over the area ranges; AR100 is mean recall.
 * Every value is taken at the summary's maxDets (100).
 */
export function cocoPerClassTable(r: CocoEvalResult): Table {
  const { T, R, K, A, M } = r.shape;
  const p = r.params;
  const m = p.maxDets.indexOf(statSpecs(p)[0].maxDets);
  const buf = new Float64Array(T * R);
  /**
   * np.mean of precision[:, :, k, a, m] over entries > -1, -1 when none (pycocotools' rule),
   * summed pairwise in numpy's order so that it equals the reference to the last bit or so
   */
  const apOver = (k: number, label: string): number => {
    const a = p.areaRngLbl.indexOf(label);
    if (a < 0) return -1;
    let n = 0;
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < R; i++) {
        const v = r.precision[(((t * R + i) * K + k) * A + a) * M + m];
        if (v > -1) buf[n++] = v;
      }
    }
    return n > 0 ? npMean(buf, n) : -1;
  };
  const rows = r.perCategory.map((c, k) => [c.name, String(c.categoryId), c.ap, c.ap50, c.ap75, apOver(k, 'small'), apOver(k, 'medium'), apOver(k, 'large'), c.ar100]);
  const s = r.stats;
  rows.push(['all', '', s[0], s[1], s[2], s[3], s[4], s[5], s[8]]);
  return { columns: ['class', 'id', 'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR100'], rows };
}

/** VOC per-class table: one row per class (class-list order), then `mAP` with the totals and both means. */
export function vocPerClassTable(r: VocEvalResult): Table {
  const rows: Table['rows'] = r.perClass.map((c) => [c.name, String(c.npos), String(c.numDifficult), String(c.numDets), c.ap07, c.apArea]);
  const total = (key: 'npos' | 'numDifficult' | 'numDets'): string => String(r.perClass.reduce((n, c) => n + c[key], 0));
  rows.push(['mAP', total('npos'), total('numDifficult'), total('numDets'), r.mAP07, r.mAPArea]);
  return { columns: ['class', 'GT', 'difficult', 'detections', 'AP07', 'AParea'], rows };
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function cell(v: string | number, format: TableFormat): string {
  if (typeof v === 'string') return format === 'csv' ? csvField(v) : v.replace(/\|/g, '\\|');
  if (Number.isNaN(v)) return 'nan';
  if (v === -1) return format === 'csv' ? '' : 'n/a';
  return format === 'csv' ? String(v) : v.toFixed(4);
}

/**
 * The table as text, one line per row and a final newline. Markdown right-aligns the metric
 * columns.
 */
export function formatTable(t: Table, format: TableFormat): string {
  const lines = [t.columns, ...t.rows].map((row, i) => row.map((v) => (i === 0 ? cell(String(v), format) : cell(v, format))));
  if (format === 'csv') return lines.map((l) => l.join(',')).join('\n') + '\n';
  const numeric = t.columns.map((_, j) => t.rows.some((row) => typeof row[j] === 'number' || /^\d+$/.test(String(row[j]))));
  const rule = numeric.map((n) => (n ? '---:' : '---'));
  const md = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [md(lines[0]), md(rule), ...lines.slice(1).map(md)].join('\n') + '\n';
}
