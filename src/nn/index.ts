/** resdet's neural-network building blocks. */
export * from './module.ts';
export * from './layers.ts';
export * from './fuse.ts';
