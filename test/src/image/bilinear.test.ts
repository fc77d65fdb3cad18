import assert from 'node:assert/strict';
import { resizeBilinear } from '../../../src/image/bilinear.ts';

/** A grey image as RGB bytes (each value repeated in the three channels). */
function grey(values: number[]): Uint8Array {
  return Uint8Array.from(values.flatMap((v) => [v, v, v]));
}

/** The red channel of RGB bytes. */
function red(rgb: Uint8Array): number[] {
  return Array.from({ length: rgb.length / 3 }, (_, i) => rgb[3 * i]);
}

describe('src/image resizeBilinear', () => {
  it('samples at half-pixel centres, clamped at the borders (cv2.INTER_LINEAR)', () => {
    // 2 -> 4 wide: source x = (d + 0.5) * 2 / 4 - 0.5 = -0.25, 0.25, 0.75, 1.25
    // -> clamp 0: 0; 0.25 * 100 = 25; 75; clamp 1: 100
    assert.deepEqual(red(resizeBilinear(grey([0, 100]), 2, 1, 4, 1)), [0, 25, 75, 100]);
    // 4 -> 2 wide (no antialiasing): x = 0.5, 2.5 -> (10 + 20) / 2 = 15, (30 + 40) / 2 = 35
    assert.deepEqual(red(resizeBilinear(grey([10, 20, 30, 40]), 4, 1, 2, 1)), [15, 35]);
  });

  it('matches torch.nn.functional.interpolate(bilinear, align_corners=False), rounded', () => {
    // golden: /usr/bin/python3, torch 1.13, float64 input [[0,40,80,120,250],[10,20,30,200,5],
    // [255,0,128,64,32]] (H 3, W 5), interpolate(size=..., mode='bilinear', align_corners=False).round()
    const src = grey([0, 40, 80, 120, 250, 10, 20, 30, 200, 5, 255, 0, 128, 64, 32]);
    assert.deepEqual(red(resizeBilinear(src, 5, 3, 7, 4)), [
      0, 23, 51, 80, 109, 176, 250, 6, 18, 34, 49, 135, 139, 97, 102, 51, 28, 67, 126, 92, 15, 255, 109, 37, 128, 82, 50, 32,
    ]);
    assert.deepEqual(red(resizeBilinear(src, 5, 3, 2, 2)), [27, 152, 52, 80]);
  });

  it('keeps the channels apart and copies an image of the same size', () => {
    const rgb = Uint8Array.from([255, 0, 10, 0, 255, 30]); // 2x1: red-ish, green-ish
    // 2 -> 3 wide: x = -1/6 (clamp 0), 0.5, 7/6 (clamp 1)
    assert.deepEqual([...resizeBilinear(rgb, 2, 1, 3, 1)], [255, 0, 10, 128, 128, 20, 0, 255, 30]);
    const same = resizeBilinear(rgb, 2, 1, 2, 1);
    assert.deepEqual([...same], [...rgb]);
    assert.notEqual(same.buffer, rgb.buffer);
  });

  it('refuses a byte count that does not match the size', () => {
    assert.throws(() => resizeBilinear(new Uint8Array(5), 2, 1, 3, 1), /expected 2x1x3 = 6 bytes, got 5/);
    assert.throws(() => resizeBilinear(new Uint8Array(6), 2, 1, 0, 1), /outWidth: expected a positive integer, got 0/);
  });
});
