/**
 * Box math shared by the detectors: pure functions on packed `[x1, y1, x2, y2]` Float32Arrays
 * (absolute pixels). Tensor code lives with the losses that need gradients (detectors/losses.ts).
 */
export * from './ops.ts';
export * from './coder.ts';
export * from './nms.ts';
export * from './matcher.ts';
export * from './sampler.ts';
