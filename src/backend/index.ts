/**
 * Compute backend selection. resdet runs on whichever TensorFlow.js backend loads best here, in
 * this order: tfjs-node-gpu (CUDA), tfjs-node (libtensorflow CPU), native (resdet's own oneDNN
 * backend, ./native), wasm (SIMD), cpu (plain JS, ~30x slower than wasm, a last resort).
 * tfjs-node(-gpu) are optionalDependencies: their install downloads libtensorflow and fails
 * offline, so npm drops them; the native addon is compiled at `npm install` where g++ and
 * libdnnl-dev exist. Any error while loading one (not only "module not found": a missing .so, a
 * CUDA mismatch, an addon not built) falls through to the next backend.
 *
 * `RESDET_BACKEND=wasm` (or `--backend wasm` on the CLI) forces one backend; `RESDET_THREADS=N`
 * (or `--threads N`) sets the native backend's threads (default: every core).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.ts';
import { ensureGradients } from './gradients.ts';
import { registerWasmKernels } from './kernels/index.ts';

/** The backends initBackend tries, best first; each falls through to the next when it cannot load. */
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
/** One of BACKEND_ORDER (also what RESDET_BACKEND and `--backend` accept). */
export type BackendName = (typeof BACKEND_ORDER)[number];

/** What happened to each candidate backend, for `resdet info`. */
export interface BackendAttempt {
  name: BackendName;
  /** the npm package that provides it */
  pkg: string;
  ok: boolean;
  /** why it was skipped (the loading error's first line), when not ok */
  reason?: string;
}

/** The backend initBackend chose, and why the better ones were skipped (`resdet info`). */
export interface BackendInfo {
  chosen: BackendName;
  attempts: BackendAttempt[];
  tfjsVersion: string;
  /** wasm only: SIMD and multi-threading support as the wasm backend detected them */
  wasmSimd?: boolean;
  wasmThreads?: boolean;
  /** native only: the oneDNN version and the instruction set it dispatched to */
  oneDnn?: string;
  isa?: string;
  /** threads used by the chosen backend's kernels */
  threads: number;
}

const PACKAGES: Record<BackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  native: 'resdet native addon (oneDNN)',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Hooks run once a backend is active (e.g. resdet's own wasm training kernels). */
const onReady: Array<(name: BackendName) => void | Promise<void>> = [];

/** Registers a hook run after a backend is chosen; kernels register themselves this way. */
export function whenBackendReady(hook: (name: BackendName) => void | Promise<void>): void {
  onReady.push(hook);
}

// tfjs-core's gradients (Node's bundle lacks them) and resdet's wasm training kernels.
whenBackendReady(async (name) => {
  await ensureGradients();
  if (name === 'wasm') registerWasmKernels();
});

let current: Promise<BackendInfo> | undefined;

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}

/**
 * Throws unless tfjs-node(-gpu)'s libtensorflow binding is on disk. An install that skipped its
 * download (`--ignore-scripts`, or the 403 of its bucket) leaves the package without
 * `lib/napi-v<N>/tfjs_binding.node`; importing it anyway registers the whole of @tensorflow/tfjs
 * (hundreds of "kernel already registered" warnings) before it fails.
 * @param from the file or URL to resolve the package from (default: this module)
 */
export function checkTfjsNodeBinding(pkg: string, from: string = import.meta.url): void {
  const dir = path.dirname(createRequire(from).resolve(`${pkg}/package.json`));
  const lib = path.join(dir, 'lib');
  const found = fs.existsSync(lib) && fs.readdirSync(lib).some((d) => d.startsWith('napi-v') && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  if (!found) throw new Error(`${pkg} is installed without its libtensorflow binding (no lib/napi-v*/tfjs_binding.node)`);
}

async function tryBackend(name: BackendName): Promise<void> {
  // The native packages register their backend on import (tfjs-node-gpu registers it under
  // the name 'tensorflow' too); resdet's native backend registers itself over tfjs-backend-cpu.
  const registeredAs: BackendName = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (name === 'native') {
    await import('@tensorflow/tfjs-backend-cpu');
    (await import('./native/backend.ts')).registerNativeBackend();
  } else {
    if (name === 'tensorflow' || name === 'tensorflow-gpu') checkTfjsNodeBinding(PACKAGES[name]);
    await import(PACKAGES[name]);
  }
  if (!(await tf.setBackend(registeredAs))) {
    throw new Error(`tf.setBackend('${registeredAs}') returned false`);
  }
  await tf.ready();
}

/**
 * Picks and initialises the backend once per process; later calls return the same answer.
 * @param force a backend name to use instead of the search (else `RESDET_BACKEND`)
 */
export function initBackend(force?: string): Promise<BackendInfo> {
  current ??= selectBackend(force ?? process.env.RESDET_BACKEND);
  return current;
}

async function selectBackend(force: string | undefined): Promise<BackendInfo> {
  if (force && !(BACKEND_ORDER as readonly string[]).includes(force)) {
    throw new UserError(`unknown backend '${force}' (RESDET_BACKEND / --backend): expected one of ${BACKEND_ORDER.join(', ')}`);
  }
  const candidates = force ? [force as BackendName] : [...BACKEND_ORDER];
  const attempts: BackendAttempt[] = [];
  for (const name of candidates) {
    try {
      await tryBackend(name);
      attempts.push({ name, pkg: PACKAGES[name], ok: true });
      for (const hook of onReady) await hook(name);
      const native = name === 'native' ? (await import('./native/backend.ts')).nativeInfo() : undefined;
      return {
        chosen: name,
        attempts,
        tfjsVersion: tf.version_core,
        threads: native ? native.threads : name === 'wasm' || name === 'cpu' ? 1 : 0,
        ...(native ? { oneDnn: native.version, isa: native.isa } : {}),
        ...(name === 'wasm'
          ? { wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), wasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') }
          : {}),
      };
    } catch (err) {
      attempts.push({ name, pkg: PACKAGES[name], ok: false, reason: firstLine(err) });
    }
  }
  const why = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new UserError(`no TensorFlow.js backend could be loaded (${why})`);
}
