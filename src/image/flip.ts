/**
 * The horizontal flip of interleaved RGB bytes, the pixel side of the flip whose box side is
 * ./boxes.ts `transformBoxes(..., flipWidth)`.
 */

/**
 * Mirrors interleaved RGB bytes left to right, in place.
 * @param rgb [height * width * 3] bytes
 */
export function flipRgbHorizontal(rgb: Uint8Array, width: number, height: number): void {
  if (rgb.length !== width * height * 3) throw new Error(`flipRgbHorizontal: expected ${width}x${height}x3 = ${width * height * 3} bytes, got ${rgb.length}`);
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
