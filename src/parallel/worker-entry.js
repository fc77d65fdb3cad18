// Worker threads start without the main thread's module hooks when the CLI registered tsx
// through its API (bin/resdet.js), so each worker registers tsx itself before loading the
// TypeScript worker body. Registering a second time (mocha's `--import tsx`) is harmless.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
