import assert from 'node:assert/strict';
import { flipRgbHorizontal } from '../../../src/image/flip.ts';

describe('src/image flipRgbHorizontal', () => {
  it('mirrors rows in place; twice is the identity', () => {
    const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]); // 3x2
    flipRgbHorizontal(rgb, 3, 2);
    assert.deepEqual([...rgb], [7, 8, 9, 4, 5, 6, 1, 2, 3, 16, 17, 18, 13, 14, 15, 10, 11, 12]);
    flipRgbHorizontal(rgb, 3, 2);
    assert.deepEqual([...rgb], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
  });

  it('leaves a one-pixel-wide image as it is and refuses a byte count that does not match the size', () => {
    const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 1x2
    flipRgbHorizontal(rgb, 1, 2);
    assert.deepEqual([...rgb], [1, 2, 3, 4, 5, 6]);
    assert.throws(() => flipRgbHorizontal(new Uint8Array(17), 3, 2), /expected 3x2x3 = 18 bytes, got 17/);
  });
});
