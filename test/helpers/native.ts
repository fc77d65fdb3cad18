/**
 * For tests of the native backend: registers it, or skips the suite with one clear line when the
 * addon is not built here (a user's machine without g++ / libdnnl-dev). CI sets
 * RESDET_REQUIRE_NATIVE=1 (.ci/run), so there a missing addon fails instead of skipping.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ensureGradients } from '../../src/backend/gradients.ts';

/** Registers the native backend; skips (or fails under RESDET_REQUIRE_NATIVE=1) when it cannot load. */
export async function requireNative(ctx: Mocha.Context): Promise<void> {
  try {
    const { registerNativeBackend } = await import('../../src/backend/native/backend.ts');
    registerNativeBackend();
    await ensureGradients();
  } catch (err) {
    if (process.env.RESDET_REQUIRE_NATIVE === '1') throw err;
    console.log(`      (skipped: native backend unavailable: ${(err as Error).message})`);
    ctx.skip();
  }
}

/** Deterministic, non-symmetric test values. */
export function wave(n: number, f: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * f + phase));
}

/**
 * Runs `f` on cpu, then on native; returns the largest abs difference relative to the largest
 * reference magnitude (at least 1), after checking the shapes agree.
 */
export async function cpuVsNative(f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const res = list.map((t) => ({ shape: t.shape, data: t.dataSync().slice() }));
    tf.dispose(list);
    return res;
  };
  const ref = await run('cpu');
  const got = await run('native');
  let worst = 0;
  ref.forEach((r, k) => {
    if (JSON.stringify(r.shape) !== JSON.stringify(got[k].shape)) throw new Error(`shape ${got[k].shape} != cpu ${r.shape}`);
    let scale = 1;
    for (const v of r.data) if (!Number.isNaN(v)) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < r.data.length; i++) {
      const a = r.data[i];
      const b = got[k].data[i];
      if (Number.isNaN(a) !== Number.isNaN(b)) throw new Error(`element ${i}: cpu ${a}, native ${b}`);
      if (!Number.isNaN(a)) worst = Math.max(worst, Math.abs(a - b) / scale);
    }
  });
  return worst;
}
