/**
 * Training tests run on the cpu backend: the wasm backend lacks Conv2DBackpropFilter until
 * resdet's own wasm training kernels are registered, and cpu is exactly reproducible.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../../src/backend/index.ts';

/** Switches to the cpu backend for the enclosing suite and back afterwards. */
export function useCpuBackend(): void {
  let previous = '';
  before(async () => {
    await initBackend();
    previous = tf.getBackend();
    await tf.setBackend('cpu');
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });
}
