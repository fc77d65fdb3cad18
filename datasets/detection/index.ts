/** Detection data: records over the VOC / COCO readers, the mapper, grouped prefetching batches. */
export * from './records.ts';
export * from './load.ts';
export * from './normalize.ts';
export * from './input.ts';
export * from './mapper.ts';
export * from './batches.ts';
