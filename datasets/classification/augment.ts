/**
 * The paper's data augmentation and evaluation crops, as mappers from decoded pixels (or a
 * record) to one network input: Float32Array [H, W, 3], row-major HWC.
 *
 * CIFAR-10 (Sec. 4.2, after Lee et al. [24]): 4 pixels of zero padding on each side, a random
 * 32x32 crop, a random horizontal flip; the test image is the original 32x32 view.
 * ImageNet (Sec. 3.4, after [21, 41]): the shorter side resized to a random size in [256, 480],
 * a random 224x224 crop, a random flip, per-channel mean subtraction, and AlexNet's PCA colour
 * augmentation [21]; evaluation by a single centre crop or the standard 10-crop.
 * All randomness comes from the `Rng` passed in, so a batch is a pure function of its seed.
 */
import sharp from 'sharp';
import { inputError } from '../../src/errors.ts';
import type { Rng } from '../../src/random.ts';
import { toRgb, type Pixels } from './decode.ts';
import type { ClassificationRecord } from './records.ts';

/** How pixel values (0..255) become network inputs. */
export type Normalisation =
  /** (v / 255 - mean[c]) / std[c]: torchvision's Normalize (the CIFAR reference weights use it) */
  | { kind: 'meanStd'; mean: readonly number[]; std: readonly number[] }
  /** v - mean[c], 0..255 scale: the paper's ImageNet per-channel mean subtraction (Caffe) */
  | { kind: 'channelMean'; mean: readonly number[] }
  /** v - mean[y, x, c]: the paper's CIFAR per-pixel mean subtraction; mean is [H, W, 3] */
  | { kind: 'pixelMean'; mean: Float32Array };

/** torchvision's ImageNet statistics, also used by the reference CIFAR-10 ResNets. */
export const TORCHVISION_NORM: Normalisation = { kind: 'meanStd', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** The ImageNet per-channel RGB mean in 0..255 (Caffe's mean pixel). */
export const IMAGENET_CHANNEL_MEAN: Normalisation = { kind: 'channelMean', mean: [123.68, 116.779, 103.939] };

/** AlexNet's PCA of ImageNet RGB pixels (0..1 scale; fb.resnet.torch's `pca`). */
const PCA_EIGVAL = [0.2175, 0.0188, 0.0045];
const PCA_EIGVEC = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
];

/** Per-element `(v - sub) * mul` tables for a normalisation of an [h, w, 3] output. */
function normTables(norm: Normalisation, h: number, w: number): { sub: Float32Array; mul: Float32Array; perPixel: boolean } {
  if (norm.kind === 'pixelMean') {
    if (norm.mean.length !== h * w * 3) throw new Error(`per-pixel mean has ${norm.mean.length} values, expected ${h}x${w}x3`);
    return { sub: norm.mean, mul: new Float32Array(h * w * 3).fill(1), perPixel: true };
  }
  if (norm.kind === 'channelMean') return { sub: Float32Array.from(norm.mean), mul: new Float32Array([1, 1, 1]), perPixel: false };
  return { sub: Float32Array.from(norm.mean, (m) => m * 255), mul: Float32Array.from(norm.std, (s) => 1 / (255 * s)), perPixel: false };
}

/**
 * Crops `out` ([h, w, 3]) from `src` at (top, left), optionally flipped, adding `offset[c]` and
 * normalising. Pixels outside `src` are zero (the zero padding of the CIFAR recipe).
 */
export function cropNormalise(src: Pixels, top: number, left: number, h: number, w: number, flip: boolean, norm: Normalisation, offset: readonly number[] = [0, 0, 0]): Float32Array {
  if (src.channels !== 3) throw new Error(`cropNormalise expects 3 channels, got ${src.channels}`);
  const out = new Float32Array(h * w * 3);
  const { sub, mul, perPixel } = normTables(norm, h, w);
  for (let y = 0; y < h; y++) {
    const sy = y + top;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + left;
      const inside = sy >= 0 && sy < src.height && sx >= 0 && sx < src.width;
      const si = (sy * src.width + sx) * 3;
      const oi = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = inside ? src.data[si + c] + offset[c] : 0;
        const k = perPixel ? oi + c : c;
        out[oi + c] = (v - sub[k]) * mul[k];
      }
    }
  }
  return out;
}

/**
 * CIFAR training augmentation: pad by `pad` zeros, random crop back to the input size, random
 * horizontal flip (torchvision's RandomCrop(32, padding=4) then RandomHorizontalFlip).
 * @param src [32, 32, 3] pixels
 */
export function cifarTrain(src: Pixels, rng: Rng, norm: Normalisation, pad = 4): Float32Array {
  const dy = rng.int(0, 2 * pad + 1);
  const dx = rng.int(0, 2 * pad + 1);
  const flip = rng.next() < 0.5;
  return cropNormalise(src, dy - pad, dx - pad, src.height, src.width, flip, norm);
}

/** CIFAR evaluation: the image itself, normalised. */
export function cifarEval(src: Pixels, norm: Normalisation): Float32Array {
  return cropNormalise(src, 0, 0, src.height, src.width, false, norm);
}

/**
 * Decodes a record resized so that its shorter side is `shorter` (sharp, Lanczos), as RGB.
 * @throws UserError naming the record when it cannot be decoded
 */
export async function decodeResized(record: ClassificationRecord, shorter: number): Promise<Pixels> {
  const img = record.image;
  const input = img.kind === 'file' ? sharp(img.path) : sharp(img.pixels, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 } });
  try {
    const { data, info } = await input.resize({ width: shorter, height: shorter, fit: 'outside' }).raw().toBuffer({ resolveWithObject: true });
    return toRgb({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels });
  } catch (err) {
    throw inputError(img.kind === 'file' ? img.path : record.id, `records[${JSON.stringify(record.id)}]`, `expected an image sharp can decode, got an error (${(err as Error).message})`);
  }
}

export interface ImagenetAugmentOptions {
  /** shorter side drawn uniformly from [minSide, maxSide]; default [256, 480] (Sec. 3.4) */
  minSide?: number;
  maxSide?: number;
  /** crop size; default 224 */
  crop?: number;
  /** standard deviation of the PCA lighting coefficients; default 0.1 (AlexNet); 0 = off */
  lighting?: number;
}

/** ImageNet training augmentation (scale, crop, flip, colour); returns [crop, crop, 3]. */
export async function imagenetTrain(record: ClassificationRecord, rng: Rng, norm: Normalisation, opts: ImagenetAugmentOptions = {}): Promise<Float32Array> {
  const { minSide = 256, maxSide = 480, crop = 224, lighting = 0.1 } = opts;
  // Draw every random number before the (async) decode, in a fixed order.
  const side = rng.int(minSide, maxSide + 1);
  const fy = rng.next();
  const fx = rng.next();
  const flip = rng.next() < 0.5;
  const alpha = [0, 1, 2].map(() => (lighting > 0 ? rng.normal() * lighting : 0));
  const px = await decodeResized(record, side);
  const top = Math.floor(fy * (px.height - crop + 1));
  const left = Math.floor(fx * (px.width - crop + 1));
  // PCA lighting: add eigvec * (alpha * eigval) to every pixel, in 0..255 units.
  const offset = [0, 1, 2].map((c) => 255 * PCA_EIGVEC[c].reduce((s, e, j) => s + e * alpha[j] * PCA_EIGVAL[j], 0));
  return cropNormalise(px, top, left, crop, crop, flip, norm, offset);
}

/** Single centre crop for evaluation: shorter side `resize` (256), centre `crop` (224). */
export async function centreCrop(record: ClassificationRecord, norm: Normalisation, resize = 256, crop = 224): Promise<Float32Array> {
  const px = await decodeResized(record, resize);
  return cropNormalise(px, Math.floor((px.height - crop) / 2), Math.floor((px.width - crop) / 2), crop, crop, false, norm);
}

/**
 * The standard 10-crop evaluation ([21], paper Sec. 3.4 "standard 10-crop testing"): the four
 * corners and the centre of the image resized to shorter side `resize`, and their flips.
 * @returns 10 inputs of [crop, crop, 3]: TL, TR, BL, BR, centre, then the same flipped
 */
export async function tenCrop(record: ClassificationRecord, norm: Normalisation, resize = 256, crop = 224): Promise<Float32Array[]> {
  const px = await decodeResized(record, resize);
  const b = px.height - crop;
  const r = px.width - crop;
  const spots: Array<[number, number]> = [[0, 0], [0, r], [b, 0], [b, r], [Math.floor(b / 2), Math.floor(r / 2)]];
  return [false, true].flatMap((flip) => spots.map(([t, l]) => cropNormalise(px, t, l, crop, crop, flip, norm)));
}

/**
 * Per-pixel mean ([H, W, 3], 0..255) over `n` images stored back to back in `data` (a
 * `PixelCache`'s array): the paper's CIFAR per-pixel mean subtraction.
 */
export function pixelMean(data: Uint8Array, n: number, h: number, w: number): Float32Array {
  const size = h * w * 3;
  const sum = new Float64Array(size);
  for (let i = 0; i < n; i++) for (let k = 0; k < size; k++) sum[k] += data[i * size + k];
  return Float32Array.from(sum, (s) => s / n);
}
