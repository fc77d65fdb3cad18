/**
 * One image through a trained detector, on plain arrays: the part of inference that Node
 * (`resdet detect`, tasks/detection/inference.ts) and the browser (tasks/detection/browser.ts)
 * share. It imports nothing Node-only, so the browser bundle runs the very same code.
 *
 *   RGB bytes at the original size -> prepareInput (datasets/detection/input.ts: resize and
 *   normalise, as in training) -> FasterRCNN.detect -> score threshold -> boxes back to
 *   original pixels
 *
 * Shape letters: D = detections of an image.
 */
import * as tf from '@tensorflow/tfjs-core';
import { prepareInput, type InputSpec, type PreparedInput } from '../../datasets/detection/input.ts';
import type { FasterRCNN } from '../../detectors/faster-rcnn.ts';
import { clipBoxes } from '../../src/boxes/ops.ts';
import { transformBoxes } from '../../src/image/index.ts';
import type { FoldedConvs } from '../../src/nn/fuse.ts';

/** The detections of one image in original-image pixels. */
export interface ImageDetections {
  /** [D * 4] xyxy, clipped to the image */
  boxes: Float32Array;
  /** [D] descending */
  scores: Float32Array;
  /** [D] class indices into the checkpoint's classes (detectors/types.ts) */
  labels: Int32Array;
}

export type { InputSpec };

/** A network-ready image: resized, normalised pixels and the resize factors, with its original size. */
export interface InputImage extends PreparedInput {
  /** original size */
  record: { width: number; height: number };
}

/** Maps the input-pixel detections of one image back to its original pixels (clipped to it). */
export function toOriginal(m: Pick<InputImage, 'scaleX' | 'scaleY' | 'record'>, boxes: Float32Array): Float32Array {
  return clipBoxes(transformBoxes(boxes, 1 / m.scaleX, 1 / m.scaleY), m.record.height, m.record.width);
}

/**
 * Runs the detector on one network-ready image (batch of one: no padding).
 * @param scoreThreshold detections below it are dropped
 * @param convs folded-BN cache shared over a run's images (`FasterRCNN.detect`); default unfolded
 */
export function detectMapped(model: FasterRCNN, m: InputImage, scoreThreshold = 0, convs?: FoldedConvs): ImageDetections {
  const input = tf.tensor4d(m.pixels, [1, m.height, m.width, 3]);
  let d;
  try {
    d = model.detect(input, { imageSizes: [{ height: m.height, width: m.width, scaleX: m.scaleX, scaleY: m.scaleY }], convs })[0];
  } finally {
    input.dispose();
  }
  const keep: number[] = [];
  for (let i = 0; i < d.scores.length; i++) if (d.scores[i] >= scoreThreshold) keep.push(i);
  const boxes = toOriginal(m, Float32Array.from(keep.flatMap((i) => Array.from(d.boxes.subarray(4 * i, 4 * i + 4)))));
  return { boxes, scores: Float32Array.from(keep.map((i) => d.scores[i])), labels: Int32Array.from(keep.map((i) => d.labels[i])) };
}

/**
 * Resizes and normalises RGB bytes at an image's original size into the detector's input, as
 * training does (datasets/detection/mapper.ts `mapRecord`, without its flip).
 * @param rgb [height * width * 3] bytes
 */
export function prepareImage(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, input: InputSpec): InputImage {
  return { record: { width, height }, ...prepareInput(rgb, width, height, input) };
}

/**
 * Detects objects in one image given as RGB bytes at its original size.
 * @param rgb [height * width * 3] bytes (a page's RGBA canvas data: see browser.ts `rgbaToRgb`)
 * @returns boxes in original-image pixels, scores descending, class indices
 */
export function detectImage(model: FasterRCNN, rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, opts: { input: InputSpec; scoreThreshold?: number; convs?: FoldedConvs }): ImageDetections {
  return detectMapped(model, prepareImage(rgb, width, height, opts.input), opts.scoreThreshold ?? 0, opts.convs);
}
