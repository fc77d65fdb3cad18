/**
 * The geometry between original images and the network input (torchvision `transform.py`,
 * py-faster-rcnn `prep_im_for_blob`): the shorter side is scaled to 600 px unless the longer side
 * would exceed 1000 px; boxes go in multiplied by the scale and come back divided by it.
 * Decoding, resizing pixels and normalising them is the data pipeline's job.
 */
import * as tf from '@tensorflow/tfjs-core';
import { clipBoxes } from '../src/boxes/index.ts';
import type { Detections, ImageSize } from './types.ts';

/**
 * The resize factor of an image (py-faster-rcnn TEST.SCALES (600,) and TEST.MAX_SIZE 1000).
 * @returns s such that round(height * s) x round(width * s) is the network input size
 */
export function resizeScale(height: number, width: number, shortSide = 600, maxSize = 1000): number {
  const scale = shortSide / Math.min(height, width);
  return Math.max(height, width) * scale > maxSize ? maxSize / Math.max(height, width) : scale;
}

/** The input size of an image resized by `scale` (rounded as py-faster-rcnn's cv2.resize). */
export function scaledSize(height: number, width: number, scale: number): ImageSize {
  return { height: Math.round(height * scale), width: Math.round(width * scale) };
}

/** Boxes multiplied by `scale` (original -> network-input pixels): [R, 4] -> [R, 4]. */
export function scaleBoxes(boxes: Float32Array, scale: number): Float32Array {
  return boxes.map((v) => v * scale);
}

/**
 * Maps one image's detections back to original-image pixels: divides by the scale and clips
 * to the original size.
 * @param original the original image size
 */
export function postprocess(det: Detections, scale: number, original: ImageSize): Detections {
  return { boxes: clipBoxes(scaleBoxes(det.boxes, 1 / scale), original.height, original.width), scores: det.scores, labels: det.labels };
}

/**
 * Packs images of different sizes into one zero-padded batch, bottom/right padding (as
 * torchvision's batch_images), the padded size rounded up to a multiple of `divisor`.
 * @param images each [h, w, 3] HWC float32, already resized and normalised
 * @returns [N, H, W, 3] and each image's valid size
 */
export function padBatch(images: Array<{ data: Float32Array; height: number; width: number }>, divisor = 16): { batch: tf.Tensor4D; sizes: ImageSize[] } {
  if (images.length === 0) throw new Error('padBatch: expected at least one image');
  const up = (v: number) => Math.ceil(v / divisor) * divisor;
  const hh = up(Math.max(...images.map((i) => i.height)));
  const ww = up(Math.max(...images.map((i) => i.width)));
  const out = new Float32Array(images.length * hh * ww * 3);
  images.forEach((im, n) => {
    if (im.data.length !== im.height * im.width * 3) throw new Error(`padBatch: image ${n}: expected ${im.height}x${im.width}x3 values, got ${im.data.length}`);
    for (let y = 0; y < im.height; y++) out.set(im.data.subarray(y * im.width * 3, (y + 1) * im.width * 3), ((n * hh + y) * ww) * 3);
  });
  return { batch: tf.tensor4d(out, [images.length, hh, ww, 3]), sizes: images.map((i) => ({ height: i.height, width: i.width })) };
}
