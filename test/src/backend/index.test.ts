import assert from 'node:assert/strict';
import { runCli } from '../../helpers/cli.ts';

describe('backend selection (resdet info)', () => {
  it('falls through missing native packages to the wasm backend and says why', () => {
    const r = runCli(['info', '--json'], { RESDET_BACKEND: '' });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    const names = info.attempts.map((a: { name: string }) => a.name);
    // Order of preference: native GPU, native CPU, wasm, cpu; the chosen one is the last tried.
    assert.deepEqual(names, ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].slice(0, names.length));
    assert.equal(info.attempts.at(-1).ok, true);
    assert.equal(info.chosen, info.attempts.at(-1).name);
    for (const a of info.attempts.slice(0, -1)) assert.match(a.reason, /\S/);
  });

  it('honours RESDET_BACKEND', () => {
    const r = runCli(['info', '--json'], { RESDET_BACKEND: 'cpu' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).chosen, 'cpu');
  });

  it('rejects an unknown backend with one line and a non-zero exit', () => {
    const r = runCli(['--backend', 'tpu', 'info']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^resdet: error: unknown backend 'tpu'.*tensorflow-gpu, tensorflow, wasm, cpu\n$/);
  });
});
