/**
 * Finds and loads a detection set from a folder, in VOC or COCO format, the way
 * `resdet train-detector / evaluate --data DIR --format voc|coco --split S` name it.
 *
 * VOC: `DIR` is a year folder (`VOCdevkit/VOC2007`), a devkit (`VOCdevkit`, year folder
 * `VOC2007`) or any folder with `Annotations/` (or labelImg's `annotations/`) and `JPEGImages/`
 * (or `images/`). Several folders joined by commas are concatenated (VOC07+12 trainval:
 * `--data VOCdevkit/VOC2007,VOCdevkit/VOC2012`). The split is `ImageSets/Main/<split>.txt`;
 * `trainval` falls back to `train` when only that exists. A folder without image sets (e.g. the
 * raccoon set) is split here: sorted annotation files, every 5th held out as `val`/`test`, the
 * rest `train` and `trainval` (so that a recipe training on `trainval`, as the paper's VOC one
 * does, never sees the held-out images), all of them `all`. Classes: `--classes`, else `<root>/classes.txt`,
 * else the 20 VOC classes when every object name is one of them, else the sorted names found.
 *
 * COCO: `DIR/annotations/instances_<split>.json` (or `instances_<split>2017.json`), or `--data`
 * naming the JSON file itself. Images are looked up under `DIR/<split>`, `DIR/<split>2017`,
 * `DIR/images`, `DIR` and the other sub-folders of `DIR` (for a JSON file: of its folder and
 * that folder's parent), the first where the first image exists, unless `images` names it. Classes are the categories
 * sorted by id.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OptionError, UserError } from '../../src/errors.ts';
import { loadCocoInstances, resolveCocoImagePath } from '../coco/annotations.ts';
import { isHeldOut } from '../shapes/make.ts';
import { VOC_CLASSES } from '../voc/classes.ts';
import { loadVocImages, readImageSet, type VocDataset } from '../voc/devkit.ts';
import { parseVocXml } from '../voc/xml.ts';
import { recordsFromCoco, recordsFromVoc, type DetectionSet } from './records.ts';

/** Options of {@link loadDetectionSet}. */
export interface LoadOptions {
  /** folder(s) or, for COCO, the instances file; commas join several VOC folders */
  data: string;
  format: 'voc' | 'coco';
  /** e.g. `trainval`, `test` (VOC), `train`, `val` (COCO) */
  split: string;
  /** class list to use (an evaluation uses the checkpoint's); see the module comment */
  classes?: readonly string[];
  /** COCO: the folder `file_name`s are relative to (found automatically when absent) */
  images?: string;
}

const firstExisting = (dir: string, names: string[]): string | undefined => names.map((n) => path.join(dir, n)).find((p) => fs.existsSync(p));

/**
 * `dir/Annotations`, or labelImg's `dir/annotations` when it holds XML files (a COCO set keeps
 * its JSON in `annotations/` too, beside a VOC year folder).
 */
function vocAnnotationsDir(dir: string): string | undefined {
  const upper = path.join(dir, 'Annotations');
  if (fs.existsSync(upper)) return upper;
  const lower = path.join(dir, 'annotations');
  try {
    return fs.readdirSync(lower).some((n) => n.endsWith('.xml')) ? lower : undefined;
  } catch {
    return undefined;
  }
}

/** The year folder of a VOC-format `dir` (see the module comment). */
export function findVocRoot(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) throw new OptionError((n) => `${abs}: ${n('data')}: expected a VOC-format folder, but it does not exist`);
  for (const candidate of [abs, path.join(abs, 'VOC2007'), path.join(abs, 'VOCdevkit', 'VOC2007')]) {
    if (vocAnnotationsDir(candidate)) return candidate;
  }
  throw new OptionError((n) => `${abs}: ${n('data')}: expected a VOC-format folder with Annotations/ (or annotations/), or a VOCdevkit with VOC2007/`);
}

/** Ids of a folder without image sets: sorted annotation files, every 5th held out. */
function idsWithoutImageSet(annotationsDir: string, split: string): string[] {
  const all = fs.readdirSync(annotationsDir).filter((n) => n.endsWith('.xml')).map((n) => n.slice(0, -4))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (split === 'all') return all;
  // val and test are the same held-out images here, so trainval (train + val in a devkit) is train
  if (split === 'train' || split === 'trainval') return all.filter((_, i) => !isHeldOut(i, 0.2));
  if (split === 'val' || split === 'test') return all.filter((_, i) => isHeldOut(i, 0.2));
  throw new OptionError((n) => `${annotationsDir}: ${n('split')}: this folder has no ImageSets/Main, so the split is made here: expected train, val, test, trainval or all, got ${JSON.stringify(split)}`);
}

/** The class list of a VOC folder when none is given (see the module comment). */
function vocClasses(root: string, annotationsDir: string, ids: string[]): string[] {
  const listFile = path.join(root, 'classes.txt');
  if (fs.existsSync(listFile)) return fs.readFileSync(listFile, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const names = new Set<string>();
  for (const id of ids) {
    const file = path.join(annotationsDir, `${id}.xml`);
    let xml: string;
    try {
      xml = fs.readFileSync(file, 'utf8');
    } catch {
      continue; // loadVocImages reports the missing file with its image-set line
    }
    for (const o of parseVocXml(xml, file).objects) names.add(o.name);
  }
  const voc = new Set<string>(VOC_CLASSES);
  if ([...names].every((n) => voc.has(n))) return [...VOC_CLASSES];
  return [...names].sort();
}

function loadVocFolder(dir: string, split: string, classes: readonly string[] | undefined): VocDataset {
  const root = findVocRoot(dir);
  const annotationsDir = vocAnnotationsDir(root)!;
  const imagesDir = firstExisting(root, ['JPEGImages', 'images']) ?? path.join(root, 'JPEGImages');
  const sets = path.join(root, 'ImageSets', 'Main');
  let ids: string[];
  let idSource: string;
  if (fs.existsSync(sets)) {
    idSource = path.join(sets, `${split}.txt`);
    if (!fs.existsSync(idSource) && split === 'trainval' && fs.existsSync(path.join(sets, 'train.txt'))) idSource = path.join(sets, 'train.txt');
    if (!fs.existsSync(idSource)) {
      const have = fs.readdirSync(sets).filter((n) => n.endsWith('.txt') && !n.includes('_')).map((n) => n.slice(0, -4));
      throw new OptionError((n) => `${idSource}: ${n('split')}: no such image set (this folder has: ${have.join(', ') || 'none'})`);
    }
    ids = readImageSet(idSource);
  } else {
    idSource = annotationsDir;
    ids = idsWithoutImageSet(annotationsDir, split);
  }
  return loadVocImages(annotationsDir, ids, { imagesDir, classes: classes ?? vocClasses(root, annotationsDir, ids), idSource });
}

/**
 * The first of `candidates` that every VOC folder of `data` (commas join several) can load: an
 * image set `ImageSets/Main/<split>.txt`, or any split for a folder without image sets (it is
 * split here). When none exists, the first candidate, whose load then names the missing file.
 * @example chooseVocSplit('VOCdevkit/VOC2007', ['train', 'trainval']) // 'trainval' on a devkit without train.txt
 */
export function chooseVocSplit(data: string, candidates: readonly string[]): string {
  const folders = data.split(',').filter(Boolean).map((d) => {
    try {
      return path.join(findVocRoot(d), 'ImageSets', 'Main');
    } catch {
      return undefined; // reported by the load itself
    }
  });
  const available = (split: string): boolean => folders.every((sets) => sets === undefined || !fs.existsSync(sets) || fs.existsSync(path.join(sets, `${split}.txt`)));
  return candidates.find(available) ?? candidates[0];
}

/** The COCO instances file of `data` and `split`. */
function cocoFile(data: string, split: string): string {
  const abs = path.resolve(data);
  if (abs.endsWith('.json')) return abs;
  const file = firstExisting(path.join(abs, 'annotations'), [`instances_${split}.json`, `instances_${split}2017.json`]);
  if (!file) throw new OptionError((n) => `${path.join(abs, 'annotations')}: ${n('data')}/${n('split')}: expected instances_${split}.json (or instances_${split}2017.json)`);
  return file;
}

/** Sub-folders of `dir` (none when it cannot be listed). */
function subfolders(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name)).sort();
  } catch {
    return [];
  }
}

/** The folder COCO `file_name`s are relative to (see the module comment). */
function findCocoImageRoot(data: string, split: string, firstName: string | undefined): string {
  const abs = path.resolve(data);
  const bases = abs.endsWith('.json') ? [path.dirname(abs), path.dirname(path.dirname(abs))] : [abs];
  const candidates = bases.flatMap((b) => [path.join(b, split), path.join(b, `${split}2017`), path.join(b, 'images'), b, ...subfolders(b)]);
  return (firstName !== undefined && candidates.find((r) => fs.existsSync(path.join(r, firstName)))) || bases[0];
}

/** Loads a set; see the module comment for how folders, splits and classes are found. */
export function loadDetectionSet(o: LoadOptions): DetectionSet {
  if (o.format === 'voc') {
    const parts = o.data.split(',').filter(Boolean).map((d) => loadVocFolder(d, o.split, o.classes));
    const classes = [...parts[0].classes];
    for (const p of parts.slice(1)) {
      if (p.classes.join() !== classes.join()) throw new OptionError((n) => `${n('data')}: the VOC folders have different class lists (${classes.join(',')} vs ${p.classes.join(',')}); pass ${n('classes')}`);
    }
    const records = parts.flatMap(recordsFromVoc);
    return { format: 'voc', classes, records, source: { voc: parts }, description: `${o.data} ${o.split} (VOC format, ${records.length} images)` };
  }
  const file = cocoFile(o.data, o.split);
  const inst = loadCocoInstances(file);
  const imageRoot = o.images ? path.resolve(o.images) : findCocoImageRoot(o.data, o.split, inst.images[0]?.fileName);
  const { classes, records } = recordsFromCoco(inst, (i) => resolveCocoImagePath(inst, inst.images[i], imageRoot));
  if (o.classes && o.classes.join() !== classes.join()) {
    throw new UserError(`${file}: categories: expected the classes ${o.classes.join(', ')} (sorted by id), got ${classes.join(', ')}`);
  }
  return { format: 'coco', classes, records, source: { coco: inst }, description: `${file} (COCO format, ${records.length} images)` };
}
