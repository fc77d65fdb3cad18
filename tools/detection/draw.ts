/**
 * Pictures of detections: the original image with one labelled box per detection, drawn as an
 * SVG overlay that sharp (librsvg) composites onto the image.
 */
import sharp from 'sharp';
import { xmlEscape } from '../../datasets/shapes/formats.ts';
import type { ImageDetections } from './inference.ts';

/** Distinct, saturated colours; class k gets `PALETTE[k % length]`. */
const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff'];

/**
 * The SVG overlay for one image.
 * @param width image width (pixels; the SVG has the same size)
 * @param dets boxes in image pixels, 0-based labels into `classes`
 */
export function detectionsSvg(width: number, height: number, dets: ImageDetections, classes: readonly string[]): string {
  const line = Math.max(1, Math.round(Math.min(width, height) / 200));
  const font = Math.max(9, Math.round(Math.min(width, height) / 28));
  const items: string[] = [];
  // Lowest score first, so the most confident boxes end up on top.
  const order = Array.from(dets.scores.keys()).sort((a, b) => dets.scores[a] - dets.scores[b]);
  for (const k of order) {
    const [x1, y1, x2, y2] = dets.boxes.subarray(4 * k, 4 * k + 4);
    const color = PALETTE[dets.labels[k] % PALETTE.length];
    const label = `${classes[dets.labels[k]] ?? dets.labels[k]} ${dets.scores[k].toFixed(2)}`;
    const ty = y1 >= font + 2 ? y1 - 2 : y1 + font;
    items.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(y2 - y1).toFixed(1)}" fill="none" stroke="${color}" stroke-width="${line}"/>`,
      `<text x="${(x1 + 1).toFixed(1)}" y="${ty.toFixed(1)}" font-family="sans-serif" font-size="${font}" fill="${color}" stroke="black" stroke-width="0.4">${xmlEscape(label)}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${items.join('')}</svg>`;
}

/**
 * Writes `image` with its detections drawn to `out` (format from the extension, e.g. .png, .jpg).
 * @param size the image's width and height (from its record)
 */
export async function drawDetections(image: string, size: { width: number; height: number }, dets: ImageDetections, classes: readonly string[], out: string): Promise<void> {
  const svg = detectionsSvg(size.width, size.height, dets, classes);
  await sharp(image).removeAlpha().composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).toFile(out);
}
