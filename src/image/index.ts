/**
 * The detector's input geometry on plain arrays, in one place: the input size of an image
 * (./size.ts), the boxes that follow it (./boxes.ts), the pixel resize (./bilinear.ts) and flip
 * (./flip.ts), and the zero-padded batch (./pack.ts). Training (datasets/detection mapper and
 * batches), inference in Node and in the browser (tasks/detection/detect-image.ts) all use these.
 */
export { resizedSize, type ResizedSize } from './size.ts';
export { transformBoxes } from './boxes.ts';
export { resizeBilinear } from './bilinear.ts';
export { flipRgbHorizontal } from './flip.ts';
export { packImages, type PackableImage, type PackedImages } from './pack.ts';
