import assert from 'node:assert/strict';
import { BalancedPositiveNegativeSampler } from '../../../src/boxes/index.ts';
import { Rng } from '../../../src/random.ts';

describe('boxes/sampler', () => {
  it('caps positives at batch * fraction and fills with negatives', () => {
    // 100 positives, 1000 negatives, batch 256 at 0.5 -> 128 + 128
    const labels = [...Array(100).fill(1), ...Array(1000).fill(0), ...Array(50).fill(-1)];
    const s = new BalancedPositiveNegativeSampler(256, 0.5).sample(labels, new Rng(1));
    assert.equal(s.positive.length, 100); // all 100 (< 128)
    assert.equal(s.negative.length, 256 - 100);
    assert.ok(Array.from(s.positive).every((i) => labels[i] === 1));
    assert.ok(Array.from(s.negative).every((i) => labels[i] === 0));
    assert.equal(new Set(s.negative).size, s.negative.length);
  });

  it('too many positives: 25% of 128 = 32; few candidates: takes what exists', () => {
    const labels = [...Array(500).fill(3), ...Array(20).fill(0)];
    const s = new BalancedPositiveNegativeSampler(128, 0.25).sample(labels, new Rng(2));
    assert.equal(s.positive.length, 32);
    assert.equal(s.negative.length, 20);
    const none = new BalancedPositiveNegativeSampler(128, 0.25).sample([], new Rng(2));
    assert.equal(none.positive.length + none.negative.length, 0);
  });

  it('is deterministic for a seed and varies with it', () => {
    const labels = Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const a = new BalancedPositiveNegativeSampler(64, 0.5).sample(labels, new Rng(5));
    const b = new BalancedPositiveNegativeSampler(64, 0.5).sample(labels, new Rng(5));
    const c = new BalancedPositiveNegativeSampler(64, 0.5).sample(labels, new Rng(6));
    assert.deepEqual(a, b);
    assert.notDeepEqual(Array.from(a.positive), Array.from(c.positive));
  });
});
