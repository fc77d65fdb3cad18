/**
 * Reads a dataset in VOCdevkit layout into plain records:
 *
 *     <root>/Annotations/<id>.xml      one annotation per image (./xml.ts)
 *     <root>/ImageSets/Main/<split>.txt  one image id per line
 *     <root>/JPEGImages/<filename>     the images (path from <filename>, kept inside the root)
 *
 * `root` is a year folder such as `VOCdevkit/VOC2007`. Custom VOC-format data (e.g. labelImg
 * output such as the raccoon set: `annotations/*.xml`, `images/`, no image sets) works with other
 * folder names, its own class list and, without an image set, every `*.xml` of the folder.
 * Boxes are `[x1, y1, x2, y2]` with x1 = xmin - 1, x2 = xmax (./records.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError, quote, UserError } from '../../src/errors.ts';
import { resolveInsideRoot } from '../../src/io/paths.ts';
import { VOC_CLASSES } from './classes.ts';
import type { VocImage } from './records.ts';
import { parseVocXml } from './xml.ts';

/** Options of {@link loadVocDataset}; every path may be relative to the working directory. */
export interface VocDatasetOptions {
  /** The dataset folder (a VOCdevkit year folder such as `VOCdevkit/VOC2007`). */
  root: string;
  /** Image set `ImageSets/Main/<split>.txt` under the root, e.g. `trainval` or `test`. */
  split?: string;
  /** An image-set file anywhere (overrides `split`). Without either: every `*.xml`, sorted. */
  imageset?: string;
  /** Annotation folder under the root. Default `Annotations`. */
  annotationsDir?: string;
  /** Image folder under the root. Default `JPEGImages`. */
  imagesDir?: string;
  /** Class list; an object's `label` is its index here. Default {@link VOC_CLASSES}. */
  classes?: readonly string[];
  /** What to do with objects whose name is not in `classes`. Default `'error'`. */
  unknownClasses?: 'error' | 'ignore';
}

/** A loaded dataset: its class list and one record per image, in image-set order. */
export interface VocDataset {
  classes: readonly string[];
  images: VocImage[];
  /** Objects skipped because their class is not in `classes` (`unknownClasses: 'ignore'`), by name. */
  ignored: Map<string, number>;
}

/** Options of {@link loadVocImages}. */
export interface VocImagesOptions {
  /** Folder the `<filename>`s are relative to; image paths may not leave it. */
  imagesDir: string;
  classes?: readonly string[];
  unknownClasses?: 'error' | 'ignore';
  /** Where the ids came from, for error messages (`test.txt: line[3]...`). */
  idSource?: string;
}

/** Checks a class list: non-empty, unique, non-empty names. */
export function checkClassList(classes: readonly string[], source = 'classes'): void {
  if (classes.length === 0) throw new UserError(`${source}: expected at least one class name`);
  const seen = new Set<string>();
  classes.forEach((c, i) => {
    if (c === '' || /\s/.test(c)) throw inputError(source, `[${i}]`, `expected a class name without spaces, got ${quote(c)}`);
    if (seen.has(c)) throw inputError(source, `[${i}]`, `duplicate class name ${quote(c)}`);
    seen.add(c);
  });
}

/** An image id becomes a file name, so it may not hold path separators or be `.`/`..`. */
function checkId(id: string, file: string, where: string): void {
  if (/[\\/\0]/.test(id) || id === '.' || id === '..') {
    throw inputError(file, where, `expected an image id (a file name without path separators), got ${quote(id)}`);
  }
}

/**
 * Reads an image-set file (`ImageSets/Main/<split>.txt`): one id per line, blank lines skipped.
 * Lines are numbered from 1 in errors (`line[3]`).
 * @throws UserError for a missing file, a line with more than one field, a bad or repeated id
 */
export function readImageSet(file: string): string[] {
  let textData: string;
  try {
    textData = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(file, '', `cannot read image set (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ids: string[] = [];
  const seen = new Set<string>();
  textData.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line[${i + 1}]`;
    const fields = line.split(/\s+/);
    if (fields.length !== 1) {
      throw inputError(file, where, `expected one image id per line, got ${quote(line)} (per-class image sets are not image lists)`);
    }
    checkId(line, file, where);
    if (seen.has(line)) throw inputError(file, where, `duplicate image id ${quote(line)}`);
    seen.add(line);
    ids.push(line);
  });
  return ids;
}

/**
 * Loads `<annotationsDir>/<id>.xml` for each id into image records.
 * @throws UserError naming the id's source line when an annotation file is missing, and the
 *   XML file and field for any bad value (./xml.ts)
 */
export function loadVocImages(annotationsDir: string, ids: readonly string[], opts: VocImagesOptions): VocDataset {
  const classes = opts.classes ?? VOC_CLASSES;
  checkClassList(classes);
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const imagesDir = path.resolve(opts.imagesDir);
  const ignored = new Map<string, number>();
  const images = ids.map((id, i): VocImage => {
    checkId(id, opts.idSource ?? annotationsDir, `image[${i}]`);
    const annotationPath = path.resolve(annotationsDir, `${id}.xml`);
    let xml: string;
    try {
      xml = fs.readFileSync(annotationPath, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const what = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`;
      throw inputError(opts.idSource ?? annotationsDir, `image[${id}]`, `expected an annotation file ${annotationPath}, ${what}`);
    }
    const ann = parseVocXml(xml, annotationPath, `${id}.jpg`);
    const imagePath = resolveInsideRoot(imagesDir, ann.filename, annotationPath, 'annotation.filename');
    const objects = [];
    for (const [k, o] of ann.objects.entries()) {
      const label = labelOf.get(o.name);
      if (label === undefined) {
        if (opts.unknownClasses === 'ignore') {
          ignored.set(o.name, (ignored.get(o.name) ?? 0) + 1);
          continue;
        }
        throw inputError(annotationPath, `object[${k}].name`, `expected one of the ${classes.length} classes (${classes.slice(0, 5).join(', ')}${classes.length > 5 ? ', ...' : ''}), got ${quote(o.name)}`);
      }
      objects.push({ ...o, label });
    }
    return { ...ann, id, imagePath, annotationPath, objects };
  });
  return { classes, images, ignored };
}

/**
 * Loads a VOC-layout dataset (see the module comment).
 * @example loadVocDataset({ root: 'VOCdevkit/VOC2007', split: 'test' })
 * @example loadVocDataset({ root: 'raccoon', annotationsDir: 'annotations', imagesDir: 'images', classes: ['raccoon'] })
 */
export function loadVocDataset(opts: VocDatasetOptions): VocDataset {
  const root = path.resolve(opts.root);
  const annotationsDir = path.resolve(root, opts.annotationsDir ?? 'Annotations');
  const imagesDir = path.resolve(root, opts.imagesDir ?? 'JPEGImages');
  let ids: string[];
  let idSource: string | undefined;
  if (opts.imageset !== undefined || opts.split !== undefined) {
    idSource = opts.imageset !== undefined ? path.resolve(opts.imageset) : path.join(root, 'ImageSets', 'Main', `${opts.split}.txt`);
    ids = readImageSet(idSource);
  } else {
    let names: string[];
    try {
      names = fs.readdirSync(annotationsDir);
    } catch (err) {
      throw inputError(annotationsDir, '', `cannot list annotations (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    ids = names.filter((n) => n.endsWith('.xml')).map((n) => n.slice(0, -4))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }
  return loadVocImages(annotationsDir, ids, { imagesDir, classes: opts.classes, unknownClasses: opts.unknownClasses, idSource });
}
