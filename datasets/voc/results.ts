/**
 * PASCAL VOC detection results files, `comp4_det_test_<class>.txt` (the devkit's "comp4" =
 * detections trained on any data), one file per class, one detection per line:
 *
 *     <image_id> <score> <xmin> <ymin> <xmax> <ymax>
 *
 * in the annotations' 1-based inclusive frame. The reader converts boxes to `[x1, y1, x2, y2]`
 * (x1 = xmin - 1, x2 = xmax, ./records.ts) and the writer converts back, so a read-write round
 * trip gives the same numbers. A class without a file has no detections, as in voc_eval.
 * Errors name the file and the 1-based line: `comp4_det_test_car.txt: line[7].score: ...`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError, quote } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { boxToVoc, vocToBox, type VocDetection } from './records.ts';
import { toNumber } from './xml.ts';

/** The results file name of one class: `comp4_det_test_<class>.txt`. */
export function resultsFileName(className: string, prefix = 'comp4_det_test_'): string {
  if (/[\\/\0]/.test(className) || className === '' || className === '.' || className === '..') {
    throw inputError('classes', '', `expected a class name usable in a file name, got ${quote(className)}`);
  }
  return `${prefix}${className}.txt`;
}

const FIELDS = ['image_id', 'score', 'xmin', 'ymin', 'xmax', 'ymax'] as const;

/**
 * Parses the text of one class's results file.
 * @param text file contents
 * @param file file name for errors
 * @param className the class every line belongs to
 * @param imageIds when given, every image id must be one of these (voc_eval raises KeyError)
 * @param idSource what `imageIds` came from, for the error message (e.g. the image-set file)
 */
export function parseVocResults(text: string, file: string, className: string, imageIds?: ReadonlySet<string>, idSource = 'the image set'): VocDetection[] {
  const dets: VocDetection[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    // Single spaces are what the devkit writes (fast path); any other whitespace is accepted too.
    let f = line.split(' ');
    if (f.length !== 6 || f.includes('')) f = line.split(/\s+/);
    if (f.length !== 6) {
      throw inputError(file, `line[${i + 1}]`, `expected 6 fields "${FIELDS.join(' ')}", got ${f.length}: ${quote(line)}`);
    }
    const imageId = f[0];
    if (imageIds && !imageIds.has(imageId)) {
      throw inputError(file, `line[${i + 1}].image_id`, `expected an image id listed in ${idSource}, got ${quote(imageId)}`);
    }
    const score = toNumber(f[1]);
    const box = vocToBox(toNumber(f[2]), toNumber(f[3]), toNumber(f[4]), toNumber(f[5]));
    if (!(Number.isFinite(score) && Number.isFinite(box[0]) && Number.isFinite(box[1]) && Number.isFinite(box[2]) && Number.isFinite(box[3]))) {
      const k = [1, 2, 3, 4, 5].find((q) => !Number.isFinite(toNumber(f[q]))) ?? 1;
      throw inputError(file, `line[${i + 1}].${FIELDS[k]}`, `expected a finite number, got ${quote(f[k])}`);
    }
    if (!(box[2] > box[0] && box[3] > box[1])) {
      throw inputError(file, `line[${i + 1}].xmax`, `expected a box of positive size (xmax - xmin + 1 > 0, ymax - ymin + 1 > 0), got ${quote(f.slice(2).join(' '))}`);
    }
    dets.push({ imageId, name: className, score, box });
  }
  return dets;
}

/**
 * Reads one class's results file. A missing file means no detections (voc_eval's behaviour
 * for a class the detector never output); any other read error is reported.
 */
export function readVocResults(file: string, className: string, imageIds?: ReadonlySet<string>, idSource?: string): VocDetection[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw inputError(file, '', `cannot read results file (${code ?? String(err)})`);
  }
  return parseVocResults(text, file, className, imageIds, idSource);
}

/** Reads `<dir>/comp4_det_test_<class>.txt` for every class, concatenated in class order. */
export function readVocResultsDir(dir: string, classes: readonly string[], imageIds?: ReadonlySet<string>, idSource?: string): VocDetection[] {
  const all: VocDetection[] = [];
  for (const c of classes) {
    for (const d of readVocResults(path.join(dir, resultsFileName(c)), c, imageIds, idSource)) all.push(d);
  }
  return all;
}

/** Formats detections as results-file lines (full float64 precision: reading them back is exact). */
function formatLines(dets: readonly VocDetection[], file: string): string {
  let out = '';
  dets.forEach((d, i) => {
    if (/\s/.test(d.imageId) || d.imageId === '') throw inputError(file, `detections[${i}].imageId`, `expected an id without spaces, got ${quote(d.imageId)}`);
    const v = [d.score, ...boxToVoc(d.box)];
    if (!v.every(Number.isFinite)) throw inputError(file, `detections[${i}]`, `expected finite score and box, got ${quote({ score: d.score, box: d.box })}`);
    out += `${d.imageId} ${v.map(String).join(' ')}\n`;
  });
  return out;
}

/** Writes one results file (all `dets` are written; their `name` is not checked). Atomic. */
export function writeVocResults(file: string, dets: readonly VocDetection[]): void {
  writeFileAtomic(file, formatLines(dets, file));
}

/**
 * Writes `<dir>/comp4_det_test_<class>.txt` for every class (empty files for classes without
 * detections, as the devkit does). Every file is formatted before the first one is written, so
 * bad input leaves the folder untouched; each file is replaced atomically.
 * @throws UserError when a detection's class is not in `classes`
 */
export function writeVocResultsDir(dir: string, classes: readonly string[], dets: readonly VocDetection[]): void {
  const byClass = new Map<string, VocDetection[]>(classes.map((c) => [c, []]));
  dets.forEach((d, i) => {
    const list = byClass.get(d.name);
    if (!list) throw inputError(dir, `detections[${i}].name`, `expected one of the classes, got ${quote(d.name)}`);
    list.push(d);
  });
  const texts = classes.map((c) => {
    const file = path.join(dir, resultsFileName(c));
    return [file, formatLines(byClass.get(c) ?? [], file)] as const;
  });
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of texts) writeFileAtomic(file, text);
}
