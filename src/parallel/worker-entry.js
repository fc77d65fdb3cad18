// Worker threads start without the main thread's module hooks when the CLI registered tsx
// through its API (bin/resdet.js), so each worker registers tsx itself before loading the
// TypeScript worker body. Registering a second time (mocha's `--import tsx`) is harmless.
// In the compiled package (dist/, see docs/api.md) the body is plain JavaScript beside this
// file and loads without tsx.
import fs from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('./worker.js', import.meta.url);
if (fs.existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
