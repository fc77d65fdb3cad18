import assert from 'node:assert/strict';
import { packImages } from '../../../src/image/pack.ts';

describe('src/image packImages', () => {
  it('packs images of different sizes with zero padding at the bottom and right', () => {
    const a = { width: 2, height: 1, pixels: Float32Array.from([1, 1, 1, 2, 2, 2]) };
    const b = { width: 1, height: 2, pixels: Float32Array.from([3, 3, 3, 4, 4, 4]) };
    const p = packImages([a, b]);
    assert.deepEqual(p.shape, [2, 2, 2, 3]);
    assert.deepEqual(p.sizes, [[1, 2], [2, 1]]);
    // image 0: row 0 = a, row 1 = padding; image 1: column 0 = b, column 1 = padding
    assert.deepEqual([...p.data], [1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 3, 3, 3, 0, 0, 0, 4, 4, 4, 0, 0, 0]);
    assert.deepEqual(packImages([a], 4).shape, [1, 4, 4, 3]);
  });

  it('rounds the padded size up to a multiple of the divisor, valid sizes kept', () => {
    const a = { pixels: new Float32Array(2 * 3 * 3).fill(1), height: 2, width: 3 };
    const b = { pixels: new Float32Array(5 * 1 * 3).fill(2), height: 5, width: 1 };
    const { data, shape, sizes } = packImages([a, b], 4);
    assert.deepEqual(shape, [2, 8, 4, 3]); // max 5 x 3 rounded up to 8 x 4
    assert.deepEqual(sizes, [[2, 3], [5, 1]]);
    /** The pixel of image n at (y, x). */
    const at = (n: number, y: number, x: number) => [...data.subarray(((n * 8 + y) * 4 + x) * 3, ((n * 8 + y) * 4 + x + 1) * 3)];
    assert.deepEqual(at(0, 1, 2), [1, 1, 1]);
    assert.deepEqual(at(0, 1, 3), [0, 0, 0]);
    assert.deepEqual(at(0, 2, 0), [0, 0, 0]);
    assert.deepEqual(at(1, 4, 0), [2, 2, 2]);
    assert.deepEqual(at(1, 5, 0), [0, 0, 0]);
    // already a multiple: 8 x 4 stays
    assert.deepEqual(packImages([{ pixels: new Float32Array(8 * 4 * 3), height: 8, width: 4 }], 4).shape, [1, 8, 4, 3]);
  });

  it('refuses no images, a bad divisor and a pixel count that does not match the size', () => {
    assert.throws(() => packImages([]), /expected at least one image, got none/);
    assert.throws(() => packImages([{ pixels: new Float32Array(3), height: 1, width: 1 }], 0), /divisor: expected a positive integer, got 0/);
    assert.throws(() => packImages([{ pixels: new Float32Array(3), height: 1, width: 1 }, { pixels: new Float32Array(5), height: 1, width: 2 }]), /image 1: expected 1x2x3 = 6 values, got 5/);
  });
});
