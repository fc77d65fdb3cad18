import assert from 'node:assert/strict';
import { resizedSize } from '../../../src/image/size.ts';

describe('src/image resizedSize', () => {
  it('resizes the shorter side to minSize unless the longer side would pass maxSize', () => {
    // VOC 500x375, 600/1000: s = min(600/375 = 1.6, 1000/500 = 2) = 1.6 -> 800x600
    assert.deepEqual(resizedSize(500, 375, 600, 1000), { width: 800, height: 600, scaleX: 1.6, scaleY: 1.6 });
    // 200x50, 100/300: s = min(100/50 = 2, 300/200 = 1.5) = 1.5 -> 300x75 (the cap wins)
    assert.deepEqual(resizedSize(200, 50, 100, 300), { width: 300, height: 75, scaleX: 1.5, scaleY: 1.5 });
    // 1000x300, 600/1000: 600/300 = 2 would make the longer side 2000 > 1000 -> s = 1000/1000 = 1
    assert.deepEqual(resizedSize(1000, 300, 600, 1000), { width: 1000, height: 300, scaleX: 1, scaleY: 1 });
    // 100x100, 50/80: s = min(50/100, 80/100) = 0.5 -> 50x50
    assert.deepEqual(resizedSize(100, 100, 50, 80), { width: 50, height: 50, scaleX: 0.5, scaleY: 0.5 });
  });

  it('rounds the size and returns the exact per-axis ratios', () => {
    // 97x64, 32/1000: s = 0.5 -> round(48.5) = 49 wide, so x scales by 49/97 exactly, y by 32/64
    assert.deepEqual(resizedSize(97, 64, 32, 1000), { width: 49, height: 32, scaleX: 49 / 97, scaleY: 0.5 });
    // 4000x1, 600/1000: s = min(600/1, 1000/4000) = 0.25 -> 1000 x round(0.25) = 0, kept at 1 pixel (y factor 1)
    assert.deepEqual(resizedSize(4000, 1, 600, 1000), { width: 1000, height: 1, scaleX: 0.25, scaleY: 1 });
  });
});
