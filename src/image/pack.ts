/**
 * Batching images of different sizes: one [N, H, W, 3] buffer, each image at the top left and
 * zeros to its right and below (torchvision `GeneralizedRCNNTransform.batch_images`,
 * detectron2 `ImageList.from_tensors`); zero is the mean pixel after normalisation. H and W are
 * the largest height and width, rounded up to a multiple of `divisor` (the backbone's stride, so
 * every feature map cell covers whole input pixels). The detector is told each image's valid
 * size, so nothing looks at the padding except the convolutions at its border.
 */

/** One normalised HWC image of a batch. */
export interface PackableImage {
  /** [height * width * 3] */
  pixels: Float32Array;
  width: number;
  height: number;
}

/** A packed batch: the buffer, its shape and each image's valid size. */
export interface PackedImages {
  /** [N * H * W * 3] */
  data: Float32Array;
  /** [N, H, W, 3] */
  shape: [number, number, number, number];
  /** each image's [height, width] */
  sizes: Array<[number, number]>;
}

/**
 * Packs images into one zero-padded batch (see the module comment).
 * @param divisor H and W are rounded up to a multiple of it; default 1 (no rounding)
 * @throws when there is no image, the divisor is not a positive integer, or an image's pixel
 *   count does not match its size
 */
export function packImages(images: readonly PackableImage[], divisor = 1): PackedImages {
  if (images.length === 0) throw new Error('packImages: expected at least one image, got none');
  if (!(Number.isInteger(divisor) && divisor >= 1)) throw new Error(`packImages: divisor: expected a positive integer, got ${divisor}`);
  images.forEach((m, n) => {
    if (m.pixels.length !== m.height * m.width * 3) throw new Error(`packImages: image ${n}: expected ${m.height}x${m.width}x3 = ${m.height * m.width * 3} values, got ${m.pixels.length}`);
  });
  const up = (v: number) => Math.ceil(v / divisor) * divisor;
  const h = up(Math.max(...images.map((m) => m.height)));
  const w = up(Math.max(...images.map((m) => m.width)));
  const data = new Float32Array(images.length * h * w * 3);
  images.forEach((m, n) => {
    for (let y = 0; y < m.height; y++) {
      data.set(m.pixels.subarray(y * m.width * 3, (y + 1) * m.width * 3), ((n * h + y) * w) * 3);
    }
  });
  return { data, shape: [images.length, h, w, 3], sizes: images.map((m) => [m.height, m.width]) };
}
