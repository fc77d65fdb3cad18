/**
 * The detection mapper: one record -> one network-ready image with its boxes. Decoding,
 * resizing and flipping run in sharp (libvips, off the JavaScript thread, so they overlap the
 * model's compute); normalisation is a short loop here.
 *
 * Resize (py-faster-rcnn `prep_im_for_blob`, Faster R-CNN Sec. 3.3): the shorter side becomes
 * `minSize` unless the longer side would then exceed `maxSize`, in which case the longer side
 * becomes `maxSize`: `s = min(minSize / short, maxSize / long)`. Output sizes are rounded, and
 * boxes are scaled per axis by the exact ratios `sx = W' / W`, `sy = H' / H`, so a box that
 * touches the image border still touches it.
 *
 * Horizontal flip (the paper's only detection augmentation): in continuous coordinates a box
 * `[x1, y1, x2, y2]` of an image `W'` wide becomes `[W' - x2, y1, W' - x1, y2]` (py-faster-rcnn's
 * `W - x2 - 1` is the same map in its 0-based inclusive convention).
 */
import sharp from 'sharp';
import { inputError } from '../../src/errors.ts';
import { normalizePixels, type PixelNorm } from './normalize.ts';
import { trainingObjects, type DetectionRecord } from './records.ts';

/** Options of the mapper; sizes in pixels. */
export interface MapperOptions {
  /** target shorter side; default 600 (paper / py-faster-rcnn `SCALES`) */
  minSize: number;
  /** cap on the longer side; default 1000 (`MAX_SIZE`) */
  maxSize: number;
  norm: PixelNorm;
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

/** The resized size of a `width` x `height` image (see the module comment). */
export function resizedSize(width: number, height: number, minSize: number, maxSize: number): { width: number; height: number; scaleX: number; scaleY: number } {
  const s = Math.min(minSize / Math.min(width, height), maxSize / Math.max(width, height));
  const w = Math.max(1, Math.round(width * s));
  const h = Math.max(1, Math.round(height * s));
  return { width: w, height: h, scaleX: w / width, scaleY: h / height };
}

/**
 * Scales boxes per axis and, when `flipWidth` is given, mirrors them in an image that wide.
 * @param boxes [G * 4] xyxy
 * @returns a new [G * 4] array
 */
export function transformBoxes(boxes: Float32Array, scaleX: number, scaleY: number, flipWidth?: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const x1 = boxes[i] * scaleX;
    const x2 = boxes[i + 2] * scaleX;
    out[i] = flipWidth === undefined ? x1 : flipWidth - x2;
    out[i + 1] = boxes[i + 1] * scaleY;
    out[i + 2] = flipWidth === undefined ? x2 : flipWidth - x1;
    out[i + 3] = boxes[i + 3] * scaleY;
  }
  return out;
}

/**
 * Decodes `file` to RGB bytes, resized to `width` x `height` (bilinear, as cv2.INTER_LINEAR in
 * the references) and mirrored when `flip`. Alpha is dropped, grey images become RGB.
 * @param expected the size the annotation gives; a different decoded size is an error
 * @throws UserError naming the file when it is missing, corrupt, or not the annotated size
 */
export async function decodeResized(file: string, width: number, height: number, flip: boolean, expected?: { width: number; height: number; annotationFile: string }): Promise<Uint8Array> {
  try {
    // sharp's default failOn 'warning' also rejects truncated JPEGs, which libvips would otherwise pad with grey.
    const img = sharp(file);
    if (expected) {
      const meta = await img.metadata();
      if (meta.width !== expected.width || meta.height !== expected.height) {
        throw inputError(expected.annotationFile, 'size', `expected the size of ${file} (${meta.width}x${meta.height}), got ${expected.width}x${expected.height}`);
      }
    }
    let pipeline = img.removeAlpha().toColourspace('srgb').resize(width, height, { fit: 'fill', kernel: 'linear' });
    if (flip) pipeline = pipeline.flop();
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== height) {
      throw new Error(`decoded ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
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
  const size = resizedSize(record.width, record.height, opts.minSize, opts.maxSize);
  const objects = trainingObjects(record, opts.degenerate);
  const rgb = await decodeResized(record.imagePath, size.width, size.height, flip, { width: record.width, height: record.height, annotationFile: record.annotationFile });
  const pixels = new Float32Array(rgb.length);
  normalizePixels(rgb, opts.norm, pixels);
  return {
    record, ...size, flipped: flip, pixels,
    boxes: transformBoxes(objects.boxes, size.scaleX, size.scaleY, flip ? size.width : undefined),
    labels: objects.labels,
    dropped: objects.dropped,
  };
}
