/**
 * `makeShapes`: writes a synthetic detection set (coloured shapes on textured backgrounds) in
 * both the VOCdevkit layout and COCO instances JSON. It is the data of `resdet demo` and of the
 * end-to-end tests, since the real sets cannot be downloaded here.
 *
 *     <out>/VOC2007/JPEGImages/000001.jpg ...
 *     <out>/VOC2007/Annotations/000001.xml ...       (1-based inclusive boxes)
 *     <out>/VOC2007/ImageSets/Main/{train,val,test}.txt
 *     <out>/VOC2007/classes.txt                      (class order; label i = line i)
 *     <out>/annotations/instances_{train,val}.json   (file_name relative to <out>)
 *
 * The held-out images are listed in both `val.txt` and `test.txt`, so VOC's usual test split and
 * COCO's val file evaluate the same images. There is no `trainval.txt` (it would include the
 * test images); the detection loader trains on `train` when `trainval` is absent. Image `i` depends only on (seed, i), not on the
 * number of images, and the output is byte-for-byte the same for the same options (sharp's
 * JPEG encoder is deterministic for a given libvips build).
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { OptionError } from '../../src/errors.ts';
import { Rng } from '../../src/random.ts';
import { cocoInstancesJson, vocAnnotationXml, type AnnotatedImage } from './formats.ts';
import { renderScene } from './raster.ts';
import { SHAPE_CLASSES, sampleScene, type Scene, type SceneOptions, type Shape, type ShapeClass } from './scene.ts';

/** Options of {@link makeShapes}. */
export interface MakeShapesOptions extends SceneOptions {
  /** output folder; must be absent or empty unless `force` */
  out: string;
  /** number of images */
  images: number;
  /** default 0 */
  seed?: number;
  /** landscape image size; default 256 x 192 */
  width?: number;
  height?: number;
  /** fraction of images drawn in portrait (height x width), so orientation grouping matters; default 0.25 */
  portrait?: number;
  /** fraction held out as val/test; default 0.2 */
  valFraction?: number;
  /** JPEG quality; default 90 */
  quality?: number;
  /** replace a non-empty `out` */
  force?: boolean;
}

/** What was written. */
export interface MakeShapesResult {
  out: string;
  vocRoot: string;
  classes: ShapeClass[];
  train: number;
  val: number;
  objects: number;
}

/** The seed of image `i`: a 32-bit mix of the set's seed and the index. */
function imageSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0;
}

/**
 * Scene and pixels of image `i` of the set with this seed (what {@link makeShapes} writes,
 * before JPEG encoding).
 * @returns the scene and its [H, W, 3] RGB bytes
 */
export function shapesImage(seed: number, i: number, o: SceneOptions & { width: number; height: number; portrait: number }): { scene: Scene; pixels: Uint8Array } {
  const rng = new Rng(imageSeed(seed, i));
  const tall = rng.next() < o.portrait;
  const [w, h] = tall ? [o.height, o.width] : [o.width, o.height];
  const scene = sampleScene(rng, w, h, o);
  return { scene, pixels: renderScene(scene, rng) };
}

/** A circle as a 24-gon for the COCO segmentation field. */
function outline(s: Shape): number[] {
  if (s.polygon) return s.polygon;
  const { cx, cy, r } = s.circle!;
  const v: number[] = [];
  for (let k = 0; k < 24; k++) v.push(cx + r * Math.cos((2 * Math.PI * k) / 24), cy + r * Math.sin((2 * Math.PI * k) / 24));
  return v;
}

/** Whether image `i` is held out: spreads `fraction` of the indices evenly. */
export function isHeldOut(i: number, fraction: number): boolean {
  return Math.floor((i + 1) * fraction) > Math.floor(i * fraction);
}

function checkOptions(o: MakeShapesOptions): void {
  const int = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new OptionError((n) => `make-shapes: ${n(name)}: expected an integer >= ${min}, got ${v}`);
  };
  int(o.images, 'images', 1);
  int(o.width, 'width', 32);
  int(o.height, 'height', 32);
  int(o.seed, 'seed', 0);
  for (const [v, name] of [[o.portrait, 'portrait'], [o.valFraction, 'valFraction']] as const) {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new OptionError((n) => `make-shapes: ${n(name)}: expected a number in [0, 1], got ${v}`);
  }
  for (const c of o.classes ?? []) {
    if (!SHAPE_CLASSES.includes(c)) throw new OptionError((n) => `make-shapes: ${n('classes')}: expected some of ${SHAPE_CLASSES.join(', ')}, got ${JSON.stringify(c)}`);
  }
}

/**
 * Generates and writes the set. It is built in a temporary folder beside `out` and renamed into
 * place at the end, so an interrupted run never leaves a half-written set at `out`.
 */
export async function makeShapes(options: MakeShapesOptions): Promise<MakeShapesResult> {
  checkOptions(options);
  const { images: n, seed = 0, width = 256, height = 192, portrait = 0.25, valFraction = 0.2, quality = 90 } = options;
  const classes = [...(options.classes ?? SHAPE_CLASSES)];
  const out = path.resolve(options.out);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !options.force) {
    throw new OptionError((n) => `${out}: expected an empty or absent folder (pass ${n('force')} to replace it)`);
  }
  const tmp = `${out}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const voc = path.join(tmp, 'VOC2007');
  for (const d of ['JPEGImages', 'Annotations', 'ImageSets/Main']) fs.mkdirSync(path.join(voc, d), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'annotations'), { recursive: true });

  try {
    const records: AnnotatedImage[] = [];
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < n; i++) {
      const { scene, pixels } = shapesImage(seed, i, { ...options, width, height, portrait, classes });
      const { width: w, height: h } = scene;
      const id = String(i + 1).padStart(6, '0');
      const rec: AnnotatedImage = {
        id, fileName: `${id}.jpg`, width: w, height: h,
        objects: scene.shapes.map((s) => ({ name: s.cls, box: s.box, area: s.area, polygon: outline(s) })),
      };
      records.push(rec);
      fs.writeFileSync(path.join(voc, 'Annotations', `${id}.xml`), vocAnnotationXml(rec, 'VOC2007'));
      pending.push(sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
        .jpeg({ quality, chromaSubsampling: '4:4:4' })
        .toFile(path.join(voc, 'JPEGImages', rec.fileName)));
      // Bound the number of images waiting for the encoder (memory), while it runs beside rendering.
      if (pending.length >= 8) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);

    const val = records.filter((_, i) => isHeldOut(i, valFraction));
    const train = records.filter((_, i) => !isHeldOut(i, valFraction));
    const list = (rs: AnnotatedImage[]) => rs.map((r) => `${r.id}\n`).join('');
    const sets = path.join(voc, 'ImageSets', 'Main');
    fs.writeFileSync(path.join(sets, 'train.txt'), list(train));
    fs.writeFileSync(path.join(sets, 'val.txt'), list(val));
    fs.writeFileSync(path.join(sets, 'test.txt'), list(val));
    fs.writeFileSync(path.join(voc, 'classes.txt'), classes.map((c) => `${c}\n`).join(''));
    fs.writeFileSync(path.join(tmp, 'annotations', 'instances_train.json'), cocoInstancesJson(train, classes, 'VOC2007/JPEGImages/'));
    fs.writeFileSync(path.join(tmp, 'annotations', 'instances_val.json'), cocoInstancesJson(val, classes, 'VOC2007/JPEGImages/'));

    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.renameSync(tmp, out);
    return {
      out, vocRoot: path.join(out, 'VOC2007'), classes,
      train: train.length, val: val.length, objects: records.reduce((a, r) => a + r.objects.length, 0),
    };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
