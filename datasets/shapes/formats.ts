/**
 * The two annotation formats the shapes set is written in. datasets/voc and datasets/coco only
 * read annotations (they write results files), so the writers live here; the tests read this
 * output back with those loaders and compare boxes.
 *
 * Boxes come in resdet's `[x1, y1, x2, y2]` whole-pixel convention and are converted at this edge
 * only: VOC `xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2` (1-based inclusive, the inverse of
 * datasets/voc/records.ts `vocToBox`), COCO `bbox = [x1, y1, x2 - x1, y2 - y1]`.
 */
import { boxToVoc } from '../voc/records.ts';

/** One annotated image, as both writers need it. */
export interface AnnotatedImage {
  /** image id, e.g. `000017`; also the VOC annotation file name */
  id: string;
  /** file name inside the VOC JPEGImages folder, e.g. `000017.jpg` */
  fileName: string;
  width: number;
  height: number;
  objects: Array<{ name: string; box: [number, number, number, number]; area: number; polygon: number[] }>;
}

/** Escapes text for an XML element (the five predefined entities only). */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** One VOC annotation file (`Annotations/<id>.xml`), in the devkit's element order. */
export function vocAnnotationXml(im: AnnotatedImage, folder: string): string {
  const objects = im.objects.map((o) => {
    const [xmin, ymin, xmax, ymax] = boxToVoc(o.box);
    return [
      '\t<object>',
      `\t\t<name>${xmlEscape(o.name)}</name>`,
      '\t\t<pose>Unspecified</pose>',
      '\t\t<truncated>0</truncated>',
      '\t\t<difficult>0</difficult>',
      '\t\t<bndbox>',
      `\t\t\t<xmin>${xmin}</xmin>`,
      `\t\t\t<ymin>${ymin}</ymin>`,
      `\t\t\t<xmax>${xmax}</xmax>`,
      `\t\t\t<ymax>${ymax}</ymax>`,
      '\t\t</bndbox>',
      '\t</object>',
    ].join('\n');
  });
  return [
    '<annotation>',
    `\t<folder>${xmlEscape(folder)}</folder>`,
    `\t<filename>${xmlEscape(im.fileName)}</filename>`,
    '\t<source>',
    '\t\t<database>resdet shapes</database>',
    '\t</source>',
    '\t<size>',
    `\t\t<width>${im.width}</width>`,
    `\t\t<height>${im.height}</height>`,
    '\t\t<depth>3</depth>',
    '\t</size>',
    '\t<segmented>0</segmented>',
    ...objects,
    '</annotation>',
    '',
  ].join('\n');
}

/** Rounds to 2 decimals: COCO files carry polygons and areas at that precision. */
const r2 = (v: number): number => Math.round(v * 100) / 100;

/**
 * A COCO instances file (`annotations/instances_<split>.json`) for `images`. Image ids are the
 * numeric value of the VOC id (`000017` -> 17), category ids are 1-based class indices,
 * annotation ids count from 1 in image order; `file_name` is `<imagePrefix><fileName>`.
 */
export function cocoInstancesJson(images: readonly AnnotatedImage[], classes: readonly string[], imagePrefix: string): string {
  const catId = new Map(classes.map((c, i) => [c, i + 1]));
  let annId = 0;
  const json = {
    info: { description: 'resdet synthetic shapes', version: '1.0' },
    images: images.map((im) => ({ id: Number(im.id), file_name: `${imagePrefix}${im.fileName}`, width: im.width, height: im.height })),
    categories: classes.map((c, i) => ({ id: i + 1, name: c, supercategory: 'shape' })),
    annotations: images.flatMap((im) => im.objects.map((o) => ({
      id: ++annId,
      image_id: Number(im.id),
      category_id: catId.get(o.name)!,
      bbox: [o.box[0], o.box[1], o.box[2] - o.box[0], o.box[3] - o.box[1]],
      area: r2(o.area),
      iscrowd: 0,
      segmentation: [o.polygon.map(r2)],
    }))),
  };
  return `${JSON.stringify(json)}\n`;
}
