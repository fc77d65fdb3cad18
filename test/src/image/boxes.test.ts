import assert from 'node:assert/strict';
import { transformBoxes } from '../../../src/image/boxes.ts';

describe('src/image transformBoxes', () => {
  it('scales and flips boxes: [x1, y1, x2, y2] -> [W - x2, y1, W - x1, y2]', () => {
    const b = Float32Array.from([10, 4, 50, 30, 0, 0, 96, 64]);
    // x 0.5, y 0.5: [5, 2, 25, 15] and the whole image [0, 0, 48, 32]
    assert.deepEqual([...transformBoxes(b, 0.5, 0.5)], [5, 2, 25, 15, 0, 0, 48, 32]);
    // flipped in a 48-wide image: [48 - 25, 2, 48 - 5, 15] = [23, 2, 43, 15]; the whole image stays whole
    assert.deepEqual([...transformBoxes(b, 0.5, 0.5, 48)], [23, 2, 43, 15, 0, 0, 48, 32]);
    // flipping twice gives back the box
    assert.deepEqual([...transformBoxes(transformBoxes(b, 1, 1, 96), 1, 1, 96)], [...b]);
  });

  it('maps back to the original with the inverse factors', () => {
    // in: [10, 20, 30, 40] * 1.6 = [16, 32, 48, 64]
    const scaled = transformBoxes(Float32Array.from([10, 20, 30, 40]), 1.6, 1.6);
    assert.deepEqual([...scaled], [16, 32, 48, 64]);
    // back: [16, 32, 800, 600] * (1 / 1.6 = 0.625) = [10, 20, 500, 375]
    assert.deepEqual([...transformBoxes(Float32Array.from([16, 32, 800, 600]), 1 / 1.6, 1 / 1.6)], [10, 20, 500, 375]);
  });

  it('returns a new empty array for no boxes', () => {
    const none = new Float32Array(0);
    const out = transformBoxes(none, 2, 2, 10);
    assert.equal(out.length, 0);
    assert.notEqual(out, none);
  });
});
