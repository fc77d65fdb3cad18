/**
 * `resdet detect --draw` and the demo's pictures: the layout of ./layout.ts (boxes, labels that
 * never overlap, a header with the title and legend) as an SVG overlay, composited by sharp
 * (librsvg) onto the resized image.
 */
import path from 'node:path';
import sharp from 'sharp';
import type { ImageDetections } from './inference.ts';
import { detectionsSvg, layoutDetections, type DetectionsLayout, type DrawOptions } from './layout.ts';

export * from './layout.ts';

/**
 * Writes `image` with its detections drawn to `out` (format from the extension, e.g. .png, .jpg).
 * @param size the image's width and height (from its record; with the record's `autoOrient`,
 *   the image is drawn with its EXIF orientation applied, as its boxes are)
 * @param dets boxes in original-image pixels, 0-based labels into `classes`
 */
export async function drawDetections(
  image: string, size: { width: number; height: number; autoOrient?: boolean }, dets: ImageDetections, classes: readonly string[], out: string, options: DrawOptions = {},
): Promise<DetectionsLayout> {
  const layout = layoutDetections(size, dets, classes, { ...options, title: options.title ?? path.basename(image) });
  const source = sharp(image);
  if (size.autoOrient) source.autoOrient();
  const resized = await source.removeAlpha().resize(layout.width, layout.imageHeight, { fit: 'fill' }).toBuffer();
  await sharp({ create: { width: layout.width, height: layout.height, channels: 3, background: '#1e1e1e' } })
    .composite([{ input: resized, top: layout.headerHeight, left: 0 }, { input: Buffer.from(detectionsSvg(layout)), top: 0, left: 0 }])
    .toFile(out);
  return layout;
}
