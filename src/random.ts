/**
 * A small seedable random generator whose whole state is one 32-bit number, so that a
 * checkpoint can store it and a resumed run draws exactly the same numbers (mulberry32).
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** The generator's state, to save in a checkpoint. */
  get state(): number {
    return this.s;
  }

  set state(value: number) {
    this.s = value >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with uniform floats in [lo, hi): element i is `lo + (hi - lo) * next()` of the
   * i-th draw, rounded to float32 (so at most float32 rounding can reach `hi`). One tight loop
   * with mulberry32 inlined: tens of millions of elements per second, for weight initialisation.
   * @returns out
   */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    const scale = (hi - lo) / 4294967296;
    let s = this.s;
    for (let i = 0; i < out.length; i++) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = lo + ((t ^ (t >>> 14)) >>> 0) * scale;
    }
    this.s = s;
    return out;
  }

  /**
   * Fills `out` with N(mean, std^2) samples: Marsaglia's polar method on pairs of draws mapped
   * to x, y in [-1, 1) (pairs with s = x^2 + y^2 outside (0, 1) are redrawn), giving the two
   * samples x f and y f, f = sqrt(-2 ln(s) / s) (an odd length drops the last one). mulberry32
   * is inlined, as in `fillUniform`: no trigonometry, no call per element.
   * @returns out
   */
  fillNormal(out: Float32Array, mean: number, std: number): Float32Array {
    const toUnit = 2 / 4294967296;
    let s = this.s;
    let i = 0;
    while (i < out.length) {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const x = ((t ^ (t >>> 14)) >>> 0) * toUnit - 1;
      s = (s + 0x6d2b79f5) >>> 0;
      t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const y = ((t ^ (t >>> 14)) >>> 0) * toUnit - 1;
      const q = x * x + y * y;
      if (q >= 1 || q === 0) continue;
      const f = std * Math.sqrt((-2 * Math.log(q)) / q);
      out[i++] = mean + x * f;
      if (i < out.length) out[i++] = mean + y * f;
    }
    this.s = s;
    return out;
  }

  /**
   * A new generator seeded with one draw of this one (`seed()`): a layer's initialiser draws a
   * whole tensor from it while this stream advances by one, whatever the tensor's size.
   */
  derive(): Rng {
    return new Rng(this.seed());
  }

  /** A 31-bit integer, e.g. a seed for tfjs random ops. */
  seed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Shuffles `a` in place (Fisher-Yates) and returns it. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/**
 * How a network's weights start: 'random' draws them (He normal, PyTorch uniform); 'none' skips
 * the draws and leaves them at zero, for a caller that loads every weight right after (a
 * checkpoint, an imported file), where the draws would be thrown away.
 */
export type WeightInit = 'random' | 'none';

/**
 * An Rng whose bulk fills draw nothing (the arrays keep their zeros), for `WeightInit` 'none'.
 * Everything else, `derive` and `seed` included, advances exactly as `Rng` does, so the other
 * users of a network's generator (e.g. dropout masks) see the same stream either way.
 */
class NoFillRng extends Rng {
  override derive(): Rng {
    return new NoFillRng(this.seed());
  }

  override fillUniform(out: Float32Array): Float32Array {
    return out;
  }

  override fillNormal(out: Float32Array): Float32Array {
    return out;
  }
}

/** The generator a network is built with: `new Rng(seed)`, or one that skips the fills for init 'none'. */
export function initRng(seed: number, init: WeightInit = 'random'): Rng {
  return init === 'none' ? new NoFillRng(seed) : new Rng(seed);
}
