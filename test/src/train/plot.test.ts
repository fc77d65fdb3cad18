import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { curvesFromLog, errorCurvesSvg, writeSvgPng } from '../../../src/train/plot.ts';
import type { LogRow } from '../../../src/train/trainer.ts';

const ROWS: LogRow[] = [
  { kind: 'train', step: 100, error: 0.8 },
  { kind: 'train', step: 200, error: 0.6 },
  { kind: 'eval', step: 200, test_error: 0.65 },
  { kind: 'train', step: 300, error: 0.4 },
  { kind: 'eval', step: 300, test_error: 0.45 },
];

describe('train/plot', () => {
  it('curvesFromLog: thin training error and bold test error from a metrics log', () => {
    const [train, test] = curvesFromLog(ROWS, 'ResNet-20', '#f00');
    assert.deepEqual(train.points, [[100, 0.8], [200, 0.6], [300, 0.4]]);
    assert.deepEqual(test.points, [[200, 0.65], [300, 0.45]]);
    assert.deepEqual([train.style, test.style], ['train', 'test']);
  });

  it('draws one path per curve (thin 1px, bold 2.6px) in side-by-side panels and renders a PNG', async () => {
    const panels = [
      { title: 'plain', curves: curvesFromLog(ROWS, 'plain-20', '#f00') },
      { title: 'ResNets <&>', curves: curvesFromLog(ROWS, 'ResNet-20', '#00f') },
    ];
    const svg = errorCurvesSvg(panels, { panelWidth: 400, panelHeight: 300 });
    assert.equal((svg.match(/<path /g) ?? []).length, 4);
    assert.equal((svg.match(/stroke-width="2.6"/g) ?? []).length, 2 + 2); // two bold curves, two legend swatches
    assert.ok(svg.includes('ResNets &lt;&amp;&gt;'));
    // y axis: the largest error 80% -> axis to 80
    assert.ok(svg.includes('>80</text>'));
    // a lower axis top (the paper's zoomed 0-20%) cuts curves at the frame instead of flattening them
    const zoomed = errorCurvesSvg(panels, { panelWidth: 400, panelHeight: 300, yMaxPercent: 20 });
    assert.ok(zoomed.includes('>20</text>') && !zoomed.includes('>30</text>'));
    assert.equal((zoomed.match(/<g clip-path="url\(#frame\d\)">/g) ?? []).length, 2);
    const ys = [...zoomed.matchAll(/<path d="([^"]*)"/g)].flatMap((m) => [...m[1].matchAll(/,(-?[\d.]+)/g)].map((v) => Number(v[1])));
    assert.ok(Math.min(...ys) < 32, 'an 80% point lies above the frame (top at y = 32), not on it');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-plot-'));
    try {
      const file = path.join(dir, 'curves.png');
      await writeSvgPng(svg, file);
      const meta = await sharp(file).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 300]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
