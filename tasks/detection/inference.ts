/**
 * Running a trained detector over image files: decode + resize with the detection mapper (the
 * next images decode while the model runs), then ./detect-image.ts (shared with the browser):
 * `FasterRCNN.detect`, boxes mapped back to the original image by the exact per-axis resize
 * ratios and clipped to it.
 *
 * Shape letters: D = detections of an image.
 */
import sharp from 'sharp';
import { decodeRgb, mapRecord, type DetectionRecord, type MappedImage, type MapperOptions } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { inputError, UserError } from '../../src/errors.ts';
import { FoldedConvs } from '../../src/nn/fuse.ts';
import { detectMapped, type ImageDetections } from './detect-image.ts';

export { detectImage, detectMapped, prepareImage, toOriginal, type ImageDetections, type InputImage, type InputSpec } from './detect-image.ts';

/** Options of {@link detectRecords}. */
export interface InferenceOptions {
  /** drop detections below this score, in [0, 1] (the detector itself drops those under its scoreThresh, 0.05) */
  scoreThreshold?: number;
  /** images decoded ahead; default 2 */
  prefetch?: number;
  /** called after each image */
  onImage?(done: number, total: number): void;
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
 * file's header, with its EXIF orientation applied (`autoOrient`), so that a phone's portrait
 * photo is detected upright, as a browser shows it and as the web page detects it.
 * @throws UserError naming the file when it cannot be read as an image
 */
export async function imageRecord(file: string): Promise<DetectionRecord> {
  let meta;
  try {
    meta = await sharp(file).metadata();
  } catch {
    // decodeRgb gives the same clear message for missing and corrupt files
    await decodeRgb(file);
    throw inputError(file, '', 'expected a readable image');
  }
  const { width, height } = meta.autoOrient;
  if (!width || !height) throw inputError(file, '', 'expected an image with a width and height');
  return {
    id: file, imagePath: file, annotationFile: file, width, height, autoOrient: true,
    boxes: new Float32Array(0), labels: new Int32Array(0), ignore: new Uint8Array(0),
  };
}
