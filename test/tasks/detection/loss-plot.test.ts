import assert from 'node:assert/strict';
import type { LogRow } from '../../../src/train/trainer.ts';
import { lossCurvesSvg } from '../../../tasks/detection/loss-plot.ts';

describe('tasks/detection loss plot', function () {
  it('draws one polyline per logged loss, scaled to the largest value', () => {
    const rows: LogRow[] = [
      { kind: 'train' as const, step: 10, loss: 2, rpn_cls: 0.5, rpn_box: 0.1, cls: 1.2, box: 0.2 },
      { kind: 'train' as const, step: 20, loss: 1, rpn_cls: 0.25, rpn_box: 0.05, cls: 0.6, box: 0.1 },
      { kind: 'eval' as const, step: 20, loss: 99 },
    ];
    const svg = lossCurvesSvg(rows, 'a & b', 560, 360);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 5);
    // plot box: x from 56 to 56 + 384 (xMax 20), y from 32 + 284 (0) up to 32 (yMax 2; eval rows are not drawn)
    // total loss: (10, 2) -> (56 + 192, 32), (20, 1) -> (440, 32 + 142)
    assert.match(svg, /points="248\.0,32\.0 440\.0,174\.0"/);
    assert.match(svg, />a &amp; b</);
  });
});
