import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MetricsLog, readMetricsLog } from '../../../src/train/metrics-log.ts';
import { formatDuration } from '../../../src/train/progress.ts';

describe('train/metrics-log', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON object per line and, on resume, drops rows after the checkpoint step', () => {
    const file = path.join(dir, 'm.jsonl');
    const log = new MetricsLog(file);
    for (const step of [10, 20, 30]) log.write({ kind: 'train', step, loss: 1 / step });
    log.write({ kind: 'eval', step: 30, test_error: 0.5 });
    log.close();
    assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 5);
    // the killed run had logged up to 30; its last checkpoint was at 20
    const resumed = new MetricsLog(file, 20);
    resumed.write({ kind: 'train', step: 30, loss: 0.03 });
    resumed.close();
    assert.deepEqual(readMetricsLog(file).map((r) => [r.kind, r.step, r.loss]), [['train', 10, 0.1], ['train', 20, 0.05], ['train', 30, 0.03]]);
    // a fresh (non-resumed) log starts empty
    new MetricsLog(file).close();
    assert.deepEqual(readMetricsLog(file), []);
  });

  it('ignores a torn last line but names a bad line in the middle', () => {
    const file = path.join(dir, 'm.jsonl');
    fs.writeFileSync(file, '{"kind":"train","step":1}\n{"kind":"tr');
    assert.equal(readMetricsLog(file).length, 1);
    fs.writeFileSync(file, '{"kind":"train","step":1}\nnot json\n{"kind":"train","step":2}\n');
    assert.throws(() => readMetricsLog(file), /m\.jsonl: line 2: expected a JSON object/);
    fs.writeFileSync(file, '{"kind":"other","step":1}\n');
    assert.throws(() => readMetricsLog(file), /line 1: expected \{"kind": "train"\|"eval"/);
  });

  it('formatDuration: m:ss and h:mm:ss', () => {
    assert.equal(formatDuration(59.6), '1:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatDuration(Infinity), '?');
  });
});
