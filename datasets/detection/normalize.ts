/**
 * The input normalisation a backbone's weights expect. torchvision's ImageNet models take RGB in
 * [0, 1] minus mean over std; the original MSRA / Caffe ResNets and py-faster-rcnn take BGR in
 * [0, 255] minus the per-channel pixel mean (py-faster-rcnn `PIXEL_MEANS`), no scaling.
 */

/** How to turn 0..255 RGB pixels into network input: `out[c] = (in[order[c]] * scale - mean[c]) / std[c]`. */
export interface PixelNorm {
  /** input channel feeding each output channel: RGB `[0, 1, 2]`, BGR `[2, 1, 0]` */
  order: [number, number, number];
  /** multiplies the 0..255 value first: 1/255 (torchvision) or 1 (caffe) */
  scale: number;
  /** per output channel, after scaling */
  mean: [number, number, number];
  std: [number, number, number];
}

/** The two conventions resdet's importers produce weights for. */
export const PIXEL_NORMS = {
  /** torchvision: RGB / 255, ImageNet mean and std */
  torchvision: { order: [0, 1, 2], scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  /** Caffe / py-faster-rcnn: BGR 0..255 minus [102.9801, 115.9465, 122.7717] (its PIXEL_MEANS) */
  caffe: { order: [2, 1, 0], scale: 1, mean: [102.9801, 115.9465, 122.7717], std: [1, 1, 1] },
} as const satisfies Record<string, PixelNorm>;

/** A name of PIXEL_NORMS: the input normalisation a backbone's weights expect. */
export type PixelNormName = keyof typeof PIXEL_NORMS;

/**
 * Normalises interleaved 0..255 RGB bytes into `out` (same layout, [H, W, 3]).
 * @param rgb [H * W * 3] bytes
 * @param out [H * W * 3] floats (may be a view into a larger batch buffer)
 */
export function normalizePixels(rgb: Uint8Array, norm: PixelNorm, out: Float32Array): void {
  const [o0, o1, o2] = norm.order;
  const a = [norm.scale / norm.std[0], norm.scale / norm.std[1], norm.scale / norm.std[2]];
  const b = [norm.mean[0] / norm.std[0], norm.mean[1] / norm.std[1], norm.mean[2] / norm.std[2]];
  for (let i = 0; i < rgb.length; i += 3) {
    out[i] = rgb[i + o0] * a[0] - b[0];
    out[i + 1] = rgb[i + o1] * a[1] - b[1];
    out[i + 2] = rgb[i + o2] * a[2] - b[2];
  }
}
