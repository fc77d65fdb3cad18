/**
 * The detector's input geometry on plain arrays, shared by Node and the browser: the resized
 * size of an image, the box transform that follows it, and the pixel resize itself. Both sides
 * decode an image to RGB bytes at its original size (Node with sharp, a page with
 * createImageBitmap + canvas) and resize them with {@link resizeBilinear}, so a page feeds the
 * network the same bytes `resdet detect` does.
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

/**
 * Mirrors interleaved RGB bytes left to right, in place.
 * @param rgb [height * width * 3] bytes
 */
export function flipRgbHorizontal(rgb: Uint8Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let a = row, b = row + (width - 1) * 3; a < b; a += 3, b -= 3) {
      for (let c = 0; c < 3; c++) {
        const t = rgb[a + c];
        rgb[a + c] = rgb[b + c];
        rgb[b + c] = t;
      }
    }
  }
}
