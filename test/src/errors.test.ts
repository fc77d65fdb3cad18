/**
 * Error-message helpers: `quote` prints what JSON.stringify would, cut to a readable length,
 * for any value an untrusted file can produce; `oneLine` folds and cuts a message.
 */
import assert from 'node:assert/strict';
import { oneLine, quote } from '../../src/errors.ts';

describe('src/errors', () => {
  it('quote prints JSON for plain data, cut at max with ...', () => {
    for (const v of [1, -0, 'x"\n', null, NaN, [1, 'a', null, undefined, { b: 2 }], { a: undefined, b: [1, 2], c: () => 1 }, new Date(0), { '': 1 }]) {
      assert.equal(quote(v), JSON.stringify(v));
    }
    assert.equal(quote(undefined), 'undefined');
    assert.equal(quote('y'.repeat(100)), `"${'y'.repeat(79)}...`);
    assert.equal(quote([1, 2, 3], 4), '[1,2...');
  });

  it('quote stays short and fast on hostile values: 300,000 levels, cycles, a million items, bigints', () => {
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 300_000; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    // JSON.stringify overflows the stack here
    assert.equal(quote(deep, 10), '[[[[[[[[[[...');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    assert.equal(quote(cyclic, 20), '{"a":1,"self":{"a":1...');
    const big = Array.from({ length: 1_000_000 }, (_, i) => i);
    assert.equal(quote(big, 12), '[0,1,2,3,4,5...');
    assert.equal(quote([12345678901234567890n, 1n]), '[12345678901234567890,1]');
    assert.equal(quote(new Map<unknown, unknown>([['k', 1], [2, [3]]])), '{"k":1,2:[3]}');
    assert.equal(quote(new Float32Array([1.5, 2])), '[1.5,2]');
  });

  it('oneLine folds line breaks and cuts long messages, saying how much was cut', () => {
    assert.equal(oneLine('Input file has corrupt header:\n  VipsJpeg: premature end\r\n\n'), 'Input file has corrupt header: VipsJpeg: premature end');
    assert.equal(oneLine(`a${'x'.repeat(20)}`, 10), 'axxxxxxxxx... (11 more characters)');
  });
});
