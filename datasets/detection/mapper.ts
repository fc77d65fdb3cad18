/**
 * The detection mapper: one record -> one network-ready image with its boxes. sharp (libvips,
 * off the JavaScript thread) decodes the file to RGB bytes at its original size; the resize, the
 * flip and the normalisation are ./input.ts `prepareInput`, the very function the browser build
 * runs, so a page feeds a detector the same input as Node. The geometry (sizes, box scaling and
 * flipping) is documented in src/image.
 */
import sharp from 'sharp';
import { inputError } from '../../src/errors.ts';
import { prepareInput, type InputSpec } from './input.ts';
import { trainingObjects, type DetectionRecord } from './records.ts';
import { transformBoxes } from '../../src/image/index.ts';

/**
 * Options of the mapper: the input geometry (`minSize` the target shorter side, 600 in the paper
 * and py-faster-rcnn's `SCALES`; `maxSize` the cap on the longer side, 1000 there, `MAX_SIZE`)
 * and normalisation, and what to do with degenerate boxes.
 */
export interface MapperOptions extends InputSpec {
  /** what to do with degenerate boxes; see `trainingObjects` */
  degenerate?: 'drop' | 'error';
}

/** A decoded, resized, possibly flipped and normalised image with its training objects. */
export interface MappedImage {
  record: DetectionRecord;
  /** resized size */
  width: number;
  height: number;
  /** resized / original, per axis */
  scaleX: number;
  scaleY: number;
  flipped: boolean;
  /** [height * width * 3] normalised, channel order of the norm */
  pixels: Float32Array;
  /** [G * 4] xyxy in resized (and flipped) pixels */
  boxes: Float32Array;
  /** [G] */
  labels: Int32Array;
  /** degenerate objects dropped */
  dropped: number;
}

/**
 * Decodes `file` to interleaved RGB bytes at its own size (alpha dropped, grey made RGB).
 * @param expected the size the annotation gives; a different decoded size is an error
 * @param autoOrient apply the file's EXIF orientation (a record's `autoOrient`); `expected` is
 *   then the oriented size
 * @throws UserError naming the file when it is missing, corrupt, or not the annotated size
 */
export async function decodeRgb(file: string, expected?: { width: number; height: number; annotationFile: string }, autoOrient = false): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  try {
    // sharp's default failOn 'warning' also rejects truncated JPEGs, which libvips would otherwise pad with grey.
    const img = sharp(file);
    if (expected) {
      const meta = await img.metadata();
      const { width, height } = autoOrient ? meta.autoOrient : meta;
      if (width !== expected.width || height !== expected.height) {
        throw inputError(expected.annotationFile, 'size', `expected the size of ${file} (${width}x${height}), got ${expected.width}x${expected.height}`);
      }
    }
    if (autoOrient) img.autoOrient();
    const { data, info } = await img.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.width}x${info.height}x${info.channels}, expected 3 channels`);
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    if ((err as Error).name === 'UserError') throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' || /missing|does not exist/i.test(e.message) ? 'file not found' : e.message.split('\n')[0];
    throw inputError(file, '', `expected a readable image (JPEG, PNG, WebP...), could not decode it: ${why}`);
  }
}

/**
 * Maps one record: decode, resize, optional flip, normalise; boxes follow (training objects
 * only: difficult / crowd left out, degenerate dropped or reported).
 */
export async function mapRecord(record: DetectionRecord, opts: MapperOptions, flip: boolean): Promise<MappedImage> {
  const objects = trainingObjects(record, opts.degenerate);
  const { rgb } = await decodeRgb(record.imagePath, { width: record.width, height: record.height, annotationFile: record.annotationFile }, record.autoOrient);
  const input = prepareInput(rgb, record.width, record.height, opts, flip);
  return {
    record, ...input, flipped: flip,
    boxes: transformBoxes(objects.boxes, input.scaleX, input.scaleY, flip ? input.width : undefined),
    labels: objects.labels,
    dropped: objects.dropped,
  };
}
