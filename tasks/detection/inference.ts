/**
 * Running a trained detector over images: decode + resize with the detection mapper (the next
 * images decode while the model runs), `FasterRCNN.detect`, then boxes mapped back to the
 * original image by the exact per-axis resize ratios and clipped to it.
 *
 * Shape letters: D = detections of an image.
 */
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { decodeResized, mapRecord, packImages, transformBoxes, type DetectionRecord, type MappedImage, type MapperOptions } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { clipBoxes } from '../../src/boxes/index.ts';
import { inputError, UserError } from '../../src/errors.ts';
import { FoldedConvs } from '../../src/nn/fuse.ts';

/** The detections of one image in original-image pixels. */
export interface ImageDetections {
  /** [D * 4] xyxy, clipped to the image */
  boxes: Float32Array;
  /** [D] descending */
  scores: Float32Array;
  /** [D] class indices into the checkpoint's classes (detectors/types.ts) */
  labels: Int32Array;
}

/** Options of {@link detectRecords}. */
export interface InferenceOptions {
  /** drop detections below this score, in [0, 1] (the detector itself drops those under its scoreThresh, 0.05) */
  scoreThreshold?: number;
  /** images decoded ahead; default 2 */
  prefetch?: number;
  /** called after each image */
  onImage?(done: number, total: number): void;
}

/** Maps the input-pixel detections of one mapped image back to its original pixels. */
export function toOriginal(m: Pick<MappedImage, 'scaleX' | 'scaleY'> & { record: Pick<DetectionRecord, 'width' | 'height'> }, boxes: Float32Array): Float32Array {
  return clipBoxes(transformBoxes(boxes, 1 / m.scaleX, 1 / m.scaleY), m.record.height, m.record.width);
}

/**
 * Runs the detector on one mapped image (batch of one: no padding between images).
 * @param convs folded-BN cache shared over a run's images (`FasterRCNN.detect`); default unfolded
 */
export function detectMapped(model: FasterRCNN, m: MappedImage, scoreThreshold = 0, convs?: FoldedConvs): ImageDetections {
  const packed = packImages([m]);
  const input = tf.tensor4d(packed.data, packed.shape);
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
 * Detects objects in every record, in order.
 * @returns one entry per record
 */
export async function detectRecords(model: FasterRCNN, records: readonly DetectionRecord[], mapper: MapperOptions, opts: InferenceOptions = {}): Promise<ImageDetections[]> {
  const t = opts.scoreThreshold;
  // scores are probabilities: a threshold above 1 would silently keep nothing
  if (t !== undefined && !(t >= 0 && t <= 1)) throw new UserError(`scoreThreshold: expected a number from 0 to 1, got ${t}`);
  const ahead = opts.prefetch ?? 2;
  const pending: Array<Promise<MappedImage>> = [];
  const start = (i: number) => {
    if (i < records.length) {
      const p = mapRecord(records[i], mapper, false);
      p.catch(() => undefined); // reported when awaited
      pending[i] = p;
    }
  };
  for (let i = 0; i <= ahead; i++) start(i);
  const out: ImageDetections[] = [];
  // BN folded into the trunk's and head's convs once for the whole run (src/nn/fuse.ts).
  const convs = new FoldedConvs();
  try {
    for (let i = 0; i < records.length; i++) {
      const m = await pending[i];
      delete pending[i];
      start(i + ahead + 1);
      out.push(detectMapped(model, m, opts.scoreThreshold, convs));
      opts.onImage?.(i + 1, records.length);
    }
  } finally {
    convs.dispose();
  }
  return out;
}

/**
 * A record for an image file given on the command line (no annotation): its size from the
 * file's header.
 * @throws UserError naming the file when it cannot be read as an image
 */
export async function imageRecord(file: string): Promise<DetectionRecord> {
  let meta;
  try {
    meta = await sharp(file).metadata();
  } catch {
    // decodeResized gives the same clear message for missing and corrupt files
    await decodeResized(file, 1, 1, false);
    throw inputError(file, '', 'expected a readable image');
  }
  if (!meta.width || !meta.height) throw inputError(file, '', 'expected an image with a width and height');
  return {
    id: file, imagePath: file, annotationFile: file, width: meta.width, height: meta.height,
    boxes: new Float32Array(0), labels: new Int32Array(0), ignore: new Uint8Array(0),
  };
}
