import assert from 'node:assert/strict';
import { BufferPool } from '../../../../src/backend/native/pool.ts';

describe('native backend: BufferPool', () => {
  it('reuses a released buffer of the same length, and only its own buffers', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.alloc(100);
    pool.retain(a);
    pool.release(a);
    assert.equal(pool.bytes, 400);
    assert.equal(pool.alloc(100), a);
    assert.equal(pool.bytes, 0);
    const user = new Float32Array(100);
    pool.retain(user);
    pool.release(user);
    assert.equal(pool.bytes, 0, 'a user array is never recycled');
    assert.notEqual(pool.alloc(100), user);
  });

  it('keeps a buffer held twice until both holders release it', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.alloc(10);
    pool.retain(a);
    pool.retain(a);
    pool.release(a);
    assert.equal(pool.bytes, 0);
    pool.release(a);
    assert.equal(pool.bytes, 40);
  });

  it('stays under its capacity, evicting the least recently used sizes first', () => {
    const pool = new BufferPool(1000); // 250 floats
    const release = (b: Float32Array) => {
      pool.retain(b);
      pool.release(b);
    };
    const [a, b, c] = [pool.alloc(100), pool.alloc(100), pool.alloc(50)];
    release(a);
    release(c); // sizes in use order: 100, 50
    release(b); // 100 becomes the most recent size: 100 x2, 50 -> 1000 bytes
    assert.equal(pool.bytes, 1000);
    release(pool.alloc(60)); // over capacity: size 50 (least recent) goes first
    // 1000 + 240 > 1000: size 50 goes (800), then one buffer of size 100 (400); then 400 + 240 fit
    assert.equal(pool.bytes, 400 + 240);
    assert.ok(pool.bytes <= 1000, `${pool.bytes} bytes pooled`);
    assert.notEqual(pool.alloc(50), c, 'the evicted size is allocated afresh');
    pool.release(new Float32Array(300)); // larger than the whole pool: not kept
    assert.ok(pool.bytes <= 1000);
  });
});
