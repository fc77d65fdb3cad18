/**
 * Anchors (Faster R-CNN Sec. 3.1.1): at every position of a stride-16 feature map, A = |sizes| x
 * |ratios| reference boxes (9 by default: sizes 128, 256, 512 px and aspect ratios h/w 0.5, 1, 2).
 * Layout and rounding follow torchvision's AnchorGenerator: the base anchors are
 * `round([-w/2, -h/2, w/2, h/2])` with `h = size * sqrt(ratio)`, `w = size / sqrt(ratio)`,
 * ratio-major (for each ratio, each size), shifted by `(x * stride, y * stride)`.
 * The flattened order `(y * W + x) * A + a` matches an NHWC conv output reshaped to [H * W * A].
 */

export interface AnchorOptions {
  /** anchor sides in input pixels (square-anchor side for ratio 1) */
  sizes: readonly number[];
  /** aspect ratios height / width */
  ratios: readonly number[];
}

/** The A base anchors centred on (0, 0): [A, 4] xyxy. */
export function baseAnchors(opts: AnchorOptions): Float32Array {
  const out = new Float32Array(opts.sizes.length * opts.ratios.length * 4);
  let k = 0;
  for (const ratio of opts.ratios) {
    const hr = Math.sqrt(ratio);
    for (const size of opts.sizes) {
      const w = size / hr;
      const h = size * hr;
      // torch.round rounds half to even; the sizes used here never give an exact .5
      out.set([Math.round(-w / 2), Math.round(-h / 2), Math.round(w / 2), Math.round(h / 2)], 4 * k++);
    }
  }
  return out;
}

/**
 * All anchors of a feature map.
 * @param height feature-map rows
 * @param width feature-map columns
 * @param stride input pixels per feature cell (16 for ResNet conv4 and VGG conv5_3)
 * @returns [height * width * A, 4] xyxy in input pixels
 */
export function gridAnchors(height: number, width: number, stride: number, opts: AnchorOptions): Float32Array {
  const base = baseAnchors(opts);
  const a = base.length / 4;
  const out = new Float32Array(height * width * a * 4);
  let o = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = x * stride;
      const sy = y * stride;
      for (let k = 0; k < 4 * a; k += 4) {
        out[o++] = base[k] + sx;
        out[o++] = base[k + 1] + sy;
        out[o++] = base[k + 2] + sx;
        out[o++] = base[k + 3] + sy;
      }
    }
  }
  return out;
}
