import assert from 'node:assert/strict';
import { Rng, initRng } from '../../src/random.ts';

describe('random', () => {
  it('fillUniform is lo + (hi - lo) * next() per element (float32) and advances the state as many draws', () => {
    const ref = new Rng(42);
    const want = Array.from({ length: 5 }, () => Math.fround(-0.5 + 2 * ref.next()));
    const rng = new Rng(42);
    assert.deepEqual(Array.from(rng.fillUniform(new Float32Array(5), -0.5, 1.5)), want);
    assert.equal(rng.state, ref.state);
  });

  it('fillNormal: polar method on pairs of draws, hand-checked first pair, odd lengths, same seed same numbers', () => {
    const ref = new Rng(7);
    // the first pair (x, y) = 2 next() - 1 with 0 < s = x^2 + y^2 < 1, scaled by f = sqrt(-2 ln s / s)
    const draw = (): [number, number, number] => {
      const x = 2 * ref.next() - 1;
      const y = 2 * ref.next() - 1;
      return [x, y, x * x + y * y];
    };
    let [x, y, s] = draw();
    while (s >= 1 || s === 0) [x, y, s] = draw();
    const f = 0.5 * Math.sqrt((-2 * Math.log(s)) / s);
    const out = new Rng(7).fillNormal(new Float32Array(3), 1, 0.5);
    assert.deepEqual([out[0], out[1]], [Math.fround(1 + x * f), Math.fround(1 + y * f)]);
    assert.ok(Number.isFinite(out[2]));
    assert.deepEqual(new Rng(7).fillNormal(new Float32Array(3), 1, 0.5), out);
  });

  it('fillNormal / fillUniform moments over 200k samples', () => {
    const n = 200_000;
    const moments = (a: Float32Array): [number, number] => {
      let m = 0;
      let v = 0;
      for (const z of a) m += z / n;
      for (const z of a) v += (z - m) ** 2 / n;
      return [m, Math.sqrt(v)];
    };
    // N(0, 0.1^2): the mean's standard error is 0.1 / sqrt(2e5) = 2.2e-4; allow 5 of them
    const [m, sd] = moments(new Rng(3).fillNormal(new Float32Array(n), 0, 0.1));
    assert.ok(Math.abs(m) < 1.1e-3, `mean ${m}`);
    assert.ok(Math.abs(sd - 0.1) < 1e-3, `std ${sd}`);
    // U(-1, 1): mean 0, std 1 / sqrt(3) = 0.5774
    const u = new Rng(3).fillUniform(new Float32Array(n), -1, 1);
    const [mu, su] = moments(u);
    assert.ok(Math.abs(mu) < 6.5e-3 && Math.abs(su - 1 / Math.sqrt(3)) < 3e-3, `${mu} ${su}`);
    assert.ok(u.every((z) => z >= -1 && z <= 1));
  });

  it("initRng 'none' fills nothing (zeros) but derives and draws the same stream as 'random'", () => {
    const a = initRng(5, 'random');
    const b = initRng(5, 'none');
    const da = a.derive();
    const db = b.derive();
    assert.equal(a.state, b.state); // one draw each
    assert.deepEqual(Array.from(db.fillNormal(new Float32Array(4), 0, 1)), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(db.derive().fillUniform(new Float32Array(3), -1, 1)), [0, 0, 0]);
    assert.ok(da.fillNormal(new Float32Array(4), 0, 1).some((v) => v !== 0));
    assert.equal(a.seed(), b.seed()); // e.g. dropout masks drawn from the network's generator later
  });
});
