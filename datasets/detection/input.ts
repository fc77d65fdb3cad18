/**
 * One image's network input from its RGB bytes: the single path every detector input takes, in
 * training (./mapper.ts, after sharp decodes the file), in `resdet detect` and in the browser
 * (tasks/detection/detect-image.ts). Node-free: the browser bundle runs this very code.
 *
 *   RGB bytes at the original size -> resizeBilinear to the size rule's size (src/image)
 *   -> mirrored when `flip` -> normalizePixels (./normalize.ts)
 */
import { flipRgbHorizontal, resizeBilinear, resizedSize } from '../../src/image/index.ts';
import { normalizePixels, type PixelNorm } from './normalize.ts';

/** The input geometry and normalisation of a detector (a checkpoint's `input`, the mapper's options). */
export interface InputSpec {
  /** target shorter side in pixels */
  minSize: number;
  /** cap on the longer side in pixels */
  maxSize: number;
  norm: PixelNorm;
}

/** A network-ready image, without its record. */
export interface PreparedInput {
  /** input (resized) size */
  width: number;
  height: number;
  /** input / original, per axis */
  scaleX: number;
  scaleY: number;
  /** [height * width * 3] normalised, channel order of the norm */
  pixels: Float32Array;
}

/**
 * Resizes (src/image's size rule and bilinear resize), optionally mirrors, and normalises RGB
 * bytes at an image's original size.
 * @param rgb [height * width * 3] bytes
 */
export function prepareInput(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, spec: InputSpec, flip = false): PreparedInput {
  const size = resizedSize(width, height, spec.minSize, spec.maxSize);
  const bytes = resizeBilinear(rgb, width, height, size.width, size.height);
  if (flip) flipRgbHorizontal(bytes, size.width, size.height);
  const pixels = new Float32Array(bytes.length);
  normalizePixels(bytes, spec.norm, pixels);
  return { ...size, pixels };
}
