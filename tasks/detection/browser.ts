/**
 * resdet's detector in a web page: load a checkpoint written by `resdet train-detector` (the
 * same safetensors bytes), pick the best tfjs backend the browser has, decode an image and
 * detect. Everything after decoding is the code Node runs (./detect-image.ts: the shared resize,
 * normalisation, `FasterRCNN.detect` and box map-back), so a page's boxes equal `resdet detect`'s
 * up to the backends' float arithmetic.
 *
 * Decoding: `createImageBitmap(file, {colorSpaceConversion: 'none', premultiplyAlpha: 'none',
 * imageOrientation: 'from-image'})` (EXIF orientation applied, as `resdet detect` applies it)
 * drawn on a canvas of the image's own size, read back with getImageData: the decoded bytes,
 * as sharp gives them in Node (no colour management on either side). Alpha is dropped as
 * sharp's removeAlpha does; a canvas stores premultiplied colour, so a semi-transparent pixel
 * may come back one level off.
 *
 * This module runs only in a browser (it registers the WebGPU, WebGL and wasm backends); the
 * bundle `resdet serve` / `resdet export` write exposes it as `resdet.js`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { UserError } from '../../src/errors.ts';
import { FoldedConvs } from '../../src/nn/fuse.ts';
import { decodeCheckpoint } from '../../src/train/checkpoint-bytes.ts';
import { detectImage, type ImageDetections } from './detect-image.ts';
import { detectorFromCheckpoint, inputSpec, type DetectorSpec } from './spec.ts';

/** The browser backends, best first. */
export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

/** Images above this many pixels are refused (decoding alone would take hundreds of MB). */
export const MAX_IMAGE_PIXELS = 20_000_000;

let wasmPathsSet = false;

/**
 * Makes `name` the tfjs backend, or the first of {@link BROWSER_BACKENDS} that starts when
 * `name` is 'auto'.
 * @param wasmPaths folder (URL ending in `/`) of tfjs-backend-wasm's .wasm files; default `./wasm/`
 * @returns the backend now in use
 * @throws UserError when a forced backend cannot start in this browser
 */
export async function useBackend(name: BrowserBackend | 'auto' = 'auto', wasmPaths = './wasm/'): Promise<BrowserBackend> {
  if (!wasmPathsSet) {
    setWasmPaths(new URL(wasmPaths, document.baseURI).href);
    wasmPathsSet = true;
  }
  if (name !== 'auto' && !BROWSER_BACKENDS.includes(name)) throw new UserError(`backend: expected one of auto, ${BROWSER_BACKENDS.join(', ')}, got ${JSON.stringify(name)}`);
  const order: readonly BrowserBackend[] = name === 'auto' ? BROWSER_BACKENDS : [name];
  for (const b of order) {
    if (tf.getBackend() === b) return b;
    let ok: boolean;
    try {
      ok = await tf.setBackend(b);
    } catch {
      ok = false;
    }
    if (ok) {
      await tf.ready();
      return b;
    }
  }
  throw new UserError(name === 'auto' ? 'no tfjs backend could start in this browser (tried WebGPU, WebGL and wasm)' : `the ${name} backend is not available in this browser`);
}

/** Live tfjs tensors (flat over many images: the detector keeps none per image). */
export function tensorCount(): number {
  return tf.memory().numTensors;
}

/** One detection as the page and `resdet detect --json` report it. */
export interface Detection {
  label: string;
  /** index into the checkpoint's classes */
  classIndex: number;
  score: number;
  /** [x1, y1, x2, y2] in original-image pixels */
  box: [number, number, number, number];
}

/** The result of {@link BrowserDetector.detect}. */
export interface DetectionResult {
  width: number;
  height: number;
  backend: string;
  /** resize, normalisation and the detector, milliseconds (decoding excluded) */
  ms: number;
  /** scores descending */
  detections: Detection[];
}

/** An image as RGB bytes at its own size. */
export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** A detector loaded in the page. */
export interface BrowserDetector {
  spec: DetectorSpec;
  classes: string[];
  /** training updates of the checkpoint */
  step: number;
  /**
   * Detects objects in an image file (any format the browser decodes) or decoded RGB bytes.
   * @param opts.scoreThreshold keep detections scoring at least this; default 0.5 (as `resdet detect`)
   */
  detect(image: Blob | RgbImage, opts?: { scoreThreshold?: number }): Promise<DetectionResult>;
  /** frees the model's tensors */
  dispose(): void;
}

/** Converts a canvas's RGBA bytes to RGB, dropping alpha. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array): Uint8Array {
  const n = rgba.length / 4;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[3 * i] = rgba[4 * i];
    rgb[3 * i + 1] = rgba[4 * i + 1];
    rgb[3 * i + 2] = rgba[4 * i + 2];
  }
  return rgb;
}

/**
 * Decodes an image file to RGB bytes at its own size (see the module comment).
 * @param name the file's name for messages
 * @throws UserError when the file is not an image the browser can decode, or is larger than
 *   `maxPixels`
 */
export async function decodeImage(file: Blob, name = 'the file', maxPixels = MAX_IMAGE_PIXELS): Promise<RgbImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch {
    throw new UserError(`${name}: expected an image (JPEG, PNG, WebP, ...), the browser could not decode it${file.type ? ` (type ${file.type})` : ''}`);
  }
  try {
    const { width, height } = bitmap;
    if (width * height > maxPixels) {
      throw new UserError(`${name}: the image is ${width}x${height} (${(width * height / 1e6).toFixed(1)} Mpx); the page accepts up to ${maxPixels / 1e6} Mpx: scale it down first`);
    }
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new UserError(`${name}: this browser gave no 2D canvas to decode the image`);
    ctx.drawImage(bitmap, 0, 0);
    return { rgb: rgbaToRgb(ctx.getImageData(0, 0, width, height).data), width, height };
  } finally {
    bitmap.close();
  }
}

/**
 * Loads a detector checkpoint into the page.
 * @param source the checkpoint's URL (fetched) or its bytes
 * @param name the name used in error messages; default the URL
 * @throws UserError when it cannot be fetched or is not a resdet detector checkpoint
 */
export async function loadDetector(source: string | URL | Uint8Array, name = source instanceof Uint8Array ? 'checkpoint' : String(source)): Promise<BrowserDetector> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) {
    bytes = source;
  } else {
    const res = await fetch(source);
    if (!res.ok) throw new UserError(`${name}: could not fetch the checkpoint (HTTP ${res.status} ${res.statusText})`);
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  const { model, spec, step } = detectorFromCheckpoint(decodeCheckpoint(bytes, name), name);
  // BN folded into the convs once for every image the page sees (src/nn/fuse.ts), as detectRecords
  const convs = new FoldedConvs();
  const input = inputSpec(spec);
  return {
    spec,
    classes: spec.classes,
    step,
    async detect(image, opts = {}) {
      const img = image instanceof Blob ? await decodeImage(image, image instanceof File ? image.name : 'the image') : image;
      const t0 = performance.now();
      const d: ImageDetections = detectImage(model, img.rgb, img.width, img.height, { input, scoreThreshold: opts.scoreThreshold ?? 0.5, convs });
      const ms = performance.now() - t0;
      return {
        width: img.width,
        height: img.height,
        backend: tf.getBackend(),
        ms,
        detections: Array.from(d.labels, (label, k) => ({
          label: spec.classes[label], classIndex: label, score: d.scores[k],
          box: Array.from(d.boxes.subarray(4 * k, 4 * k + 4)) as [number, number, number, number],
        })),
      };
    },
    dispose() {
      convs.dispose();
      model.dispose();
    },
  };
}
