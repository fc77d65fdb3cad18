import assert from 'node:assert/strict';
import { PlateauLr, constantLr, stepLr, warmup } from '../../../src/train/schedule.ts';

describe('train/schedule', () => {
  it('stepLr divides by 10 exactly at the milestones (paper Sec. 4.2: 32k, 48k)', () => {
    const s = stepLr(0.1, [32000, 48000]);
    assert.equal(s.lr(0), 0.1);
    assert.equal(s.lr(31999), 0.1);
    assert.ok(Math.abs(s.lr(32000) - 0.01) < 1e-12);
    assert.ok(Math.abs(s.lr(47999) - 0.01) < 1e-12);
    assert.ok(Math.abs(s.lr(48000) - 0.001) < 1e-12);
    assert.ok(Math.abs(s.lr(63999) - 0.001) < 1e-12);
  });

  it('warmup uses 0.01 for the first 400 iterations, then the main schedule (ResNet-110)', () => {
    const s = warmup(stepLr(0.1, [32000]), 0.01, 400);
    assert.equal(s.lr(0), 0.01);
    assert.equal(s.lr(399), 0.01);
    assert.equal(s.lr(400), 0.1);
    assert.ok(Math.abs(s.lr(32000) - 0.01) < 1e-12);
    assert.equal(constantLr(0.5).lr(123), 0.5);
  });

  it('PlateauLr divides by 10 after more than `patience` observations without improvement', () => {
    const s = new PlateauLr(0.1, { patience: 1, threshold: 0 });
    s.observe(0, 0.5); // best 0.5
    s.observe(1, 0.4); // best 0.4
    s.observe(2, 0.45); // bad 1 (not > patience 1)
    assert.equal(s.lr(), 0.1);
    s.observe(3, 0.41); // bad 2 > 1: drop
    assert.ok(Math.abs(s.lr() - 0.01) < 1e-12);
    s.observe(4, 0.42); // bad 1 again after the reset
    assert.ok(Math.abs(s.lr() - 0.01) < 1e-12);
  });

  it('PlateauLr state round-trips through JSON and continues identically', () => {
    const a = new PlateauLr(0.1, { patience: 2 });
    for (const [i, v] of [0.9, 0.8, 0.85].entries()) a.observe(i, v);
    const b = new PlateauLr(0.1, { patience: 2 });
    b.load(JSON.parse(JSON.stringify(a.state())));
    for (const v of [0.86, 0.87, 0.88, 0.5, 0.6, 0.7, 0.8]) {
      a.observe(0, v);
      b.observe(0, v);
      assert.equal(b.lr(), a.lr());
    }
    assert.deepEqual(b.state(), a.state());
    assert.throws(() => b.load({ lr: 'x' } as never), /plateau schedule state/);
  });
});
