import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkTfjsNodeBinding } from '../../../src/backend/index.ts';
import { runCli } from '../../helpers/cli.ts';
import { requireNative } from '../../helpers/native.ts';

describe('backend selection (resdet info)', () => {
  it('falls through missing native packages to the wasm backend and says why', () => {
    const r = runCli(['info', '--json'], { RESDET_BACKEND: '', RESDET_NATIVE_ADDON: '/nonexistent/resdet_native.node' });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    const names = info.attempts.map((a: { name: string }) => a.name);
    // Order of preference: tfjs-node GPU, tfjs-node CPU, resdet's native, wasm, cpu; the chosen one is the last tried.
    assert.deepEqual(names, ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'].slice(0, names.length));
    assert.match(info.attempts.find((a: { name: string }) => a.name === 'native').reason, /native addon not built \(\/nonexistent\/resdet_native\.node is missing: apt-get install g\+\+ libdnnl-dev/);
    assert.equal(info.attempts.at(-1).ok, true);
    assert.equal(info.chosen, info.attempts.at(-1).name);
    for (const a of info.attempts.slice(0, -1)) assert.match(a.reason, /\S/);
  });

  it('picks the native backend when it is built, with its oneDNN version, ISA and threads', async function () {
    await requireNative(this);
    const r = runCli(['--threads', '1', 'info', '--json'], { RESDET_BACKEND: '' });
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    if (!['tensorflow-gpu', 'tensorflow'].includes(info.chosen)) assert.equal(info.chosen, 'native');
    if (info.chosen === 'native') {
      assert.match(info.oneDnn, /^\d+\.\d+\.\d+$/);
      assert.match(info.isa, /^(sse41|avx|avx2|avx2_vnni|avx512_core.*|other)$/);
      assert.equal(info.threads, 1);
    }
    const text = runCli(['--backend', 'native', 'info']);
    assert.match(text.stdout, /^backend: native\n[\s\S]*native: oneDNN \d+\.\d+\.\d+, isa \S+\n/);
    const bad = runCli(['--threads', '0', 'info']);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, "resdet: error: --threads: expected a positive whole number, got '0'\n");
  });

  it('honours RESDET_BACKEND', () => {
    const r = runCli(['info', '--json'], { RESDET_BACKEND: 'cpu' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).chosen, 'cpu');
  });

  it('rejects an unknown backend with one line and a non-zero exit', () => {
    const r = runCli(['--backend', 'tpu', 'info']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^resdet: error: unknown backend 'tpu'.*tensorflow-gpu, tensorflow, native, wasm, cpu\n$/);
  });
});

describe('backend selection: tfjs-node without its binding', () => {
  // A fake installed package in a temp project: package.json only (an --ignore-scripts install).
  function fakeProject(withBinding: boolean): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-tfjs-node-'));
    const pkg = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
    fs.mkdirSync(path.join(pkg, 'lib', 'napi-v8'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'dist/index.js' }));
    if (withBinding) fs.writeFileSync(path.join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    return root;
  }

  it('is refused before import, naming the missing binding; an installed binding passes the check', () => {
    const bare = fakeProject(false);
    const full = fakeProject(true);
    try {
      assert.throws(() => checkTfjsNodeBinding('@tensorflow/tfjs-node', path.join(bare, 'index.js')), /@tensorflow\/tfjs-node is installed without its libtensorflow binding \(no lib\/napi-v\*\/tfjs_binding\.node\)/);
      assert.doesNotThrow(() => checkTfjsNodeBinding('@tensorflow/tfjs-node', path.join(full, 'index.js')));
      assert.throws(() => checkTfjsNodeBinding('@tensorflow/tfjs-node-gpu', path.join(full, 'index.js')), /Cannot find module/);
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
      fs.rmSync(full, { recursive: true, force: true });
    }
  });
});
