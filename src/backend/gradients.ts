/**
 * Gradient functions for tfjs-core. The package's CommonJS bundle (what Node loads for
 * `@tensorflow/tfjs-core`) registers kernels but no gradients: `tf.grad` fails with "gradient
 * function not found for Add". The gradients ship only as ES modules under dist/, written for
 * bundlers (extensionless relative imports, which Node's ESM loader rejects). This module adds
 * a resolve hook that appends `.js` to those relative imports, then imports
 * `dist/register_all_gradients.js` once. That second copy of tfjs-core shares the engine, kernel
 * and gradient registries of the first (tfjs keeps them on the global object, and `Tensor`
 * instanceof checks are structural), so the gradients it registers serve `tf.grad` everywhere.
 */
import * as tf from '@tensorflow/tfjs-core';
import { register } from 'node:module';

const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.includes('/@tensorflow/tfjs-core/dist/')
      && specifier.startsWith('.') && !specifier.endsWith('.js')) {
    try { return await next(specifier + '.js', context); } catch { /* a directory index: fall through */ }
  }
  return next(specifier, context);
}`;

let loading: Promise<void> | undefined;

/** Registers tfjs-core's gradient functions once per process (no-op when already there). */
export function ensureGradients(): Promise<void> {
  loading ??= (async () => {
    if (tf.getGradient(tf.Add)) return;
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return loading;
}
