/**
 * The pixel resize of the detector's input, a pure function on RGB bytes shared by Node and the
 * browser: both decode an image to RGB bytes at its original size (Node with sharp, a page with
 * createImageBitmap + canvas) and resize them here, so a page feeds the network the same bytes
 * `resdet detect` does. Bilinear with half-pixel centres and no antialiasing, as OpenCV's
 * `cv2.INTER_LINEAR` (py-faster-rcnn) and torchvision's `GeneralizedRCNNTransform`
 * (`F.interpolate(mode='bilinear', align_corners=False)`).
 */

/**
 * One axis of a bilinear resize: for each output index, the two source indices and the weight
 * of the second. Half-pixel centres as OpenCV's `cv2.INTER_LINEAR` (and PyTorch's
 * `interpolate(mode='bilinear', align_corners=False)`): output pixel `d` samples the source at
 * `(d + 0.5) * src / dst - 0.5`, clamped to `[0, src - 1]` (positions left of the first centre
 * take the first pixel, right of the last centre the last one).
 */
function axisTaps(src: number, dst: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w1 = new Float64Array(dst);
  const ratio = src / dst;
  for (let d = 0; d < dst; d++) {
    const p = Math.min(Math.max((d + 0.5) * ratio - 0.5, 0), src - 1);
    const lo = Math.floor(p);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, src - 1);
    w1[d] = p - lo;
  }
  return { i0, i1, w1 };
}

/**
 * Resizes interleaved RGB bytes with bilinear interpolation, half-pixel centres as
 * `cv2.INTER_LINEAR` (see `axisTaps`; no antialiasing when shrinking, as OpenCV). Weights and
 * sums are float64, each output rounded to the nearest byte (OpenCV's 11-bit fixed-point
 * weights can differ from this by one level).
 * @param rgb [height * width * 3] bytes
 * @returns [outHeight * outWidth * 3] bytes (a copy when the size does not change)
 */
export function resizeBilinear(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  for (const [name, v] of [['width', width], ['height', height], ['outWidth', outWidth], ['outHeight', outHeight]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`resizeBilinear: ${name}: expected a positive integer, got ${v}`);
  }
  if (rgb.length !== width * height * 3) throw new Error(`resizeBilinear: expected ${width}x${height}x3 = ${width * height * 3} bytes, got ${rgb.length}`);
  if (width === outWidth && height === outHeight) return Uint8Array.from(rgb);
  const xs = axisTaps(width, outWidth);
  const ys = axisTaps(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    const r0 = ys.i0[y] * width * 3;
    const r1 = ys.i1[y] * width * 3;
    const wy = ys.w1[y];
    let o = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      const c0 = xs.i0[x] * 3;
      const c1 = xs.i1[x] * 3;
      const wx = xs.w1[x];
      for (let c = 0; c < 3; c++) {
        const top = rgb[r0 + c0 + c] + (rgb[r0 + c1 + c] - rgb[r0 + c0 + c]) * wx;
        const bottom = rgb[r1 + c0 + c] + (rgb[r1 + c1 + c] - rgb[r1 + c0 + c]) * wx;
        out[o++] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return out;
}
