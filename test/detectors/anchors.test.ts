import assert from 'node:assert/strict';
import { baseAnchors, gridAnchors } from '../../detectors/anchors.ts';

describe('detectors/anchors', () => {
  it('base anchors: torchvision rounding, ratio-major order', () => {
    // ratio 0.5 (h/w): h = 128 sqrt(0.5) = 90.51, w = 128 / sqrt(0.5) = 181.02 -> round(+-90.51) = +-91, round(+-45.25) = +-45
    const b = baseAnchors({ sizes: [128], ratios: [0.5, 1, 2] });
    assert.deepEqual(Array.from(b), [-91, -45, 91, 45, -64, -64, 64, 64, -45, -91, 45, 91]);
    // the paper's 9: for each ratio the sizes 128, 256, 512; the ratio-1 anchors are squares of that side
    const nine = baseAnchors({ sizes: [128, 256, 512], ratios: [0.5, 1, 2] });
    assert.equal(nine.length, 9 * 4);
    assert.deepEqual(Array.from(nine.subarray(12, 24)), [-64, -64, 64, 64, -128, -128, 128, 128, -256, -256, 256, 256]);
  });

  it('grid anchors: (y * W + x) * A + a order, shifted by stride', () => {
    const opts = { sizes: [128, 256, 512], ratios: [0.5, 1, 2] };
    const g = gridAnchors(2, 3, 16, opts);
    assert.equal(g.length, 2 * 3 * 9 * 4);
    // cell (y=1, x=2), anchor 4 (ratio 1, size 256): [-128 + 32, -128 + 16, 128 + 32, 128 + 16]
    const k = (1 * 3 + 2) * 9 + 4;
    assert.deepEqual(Array.from(g.subarray(4 * k, 4 * k + 4)), [-96, -112, 160, 144]);
    assert.equal(gridAnchors(0, 5, 16, opts).length, 0);
  });
});
