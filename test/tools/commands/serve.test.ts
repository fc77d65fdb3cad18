/**
 * `resdet serve` and `resdet export`: the server answers only with its own files (traversal in
 * every spelling, encoded slashes, absolute paths, symbolic links out of the folder: 404), 405
 * for other methods, stops on SIGINT; export writes the site, refuses a non-empty folder without
 * --force, and both refuse a checkpoint that is not a detector. Checkpoints here are written
 * byte by byte (the site checks the header and the config, not the weights), so no training runs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from '../../../src/train/checkpoint.ts';
import { encodeSafetensors } from '../../../src/weights/safetensors.ts';
import { listSite, serveSite, siteKey, type SiteServer } from '../../../tools/web/server.ts';
import { REPO_ROOT, runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';

/** A resdet checkpoint file with the given config and one small tensor. */
function fakeCheckpoint(file: string, config: unknown): void {
  const state = JSON.stringify({ step: 7, config, rng: {}, schedule: null, extra: {} });
  const tensors = new Map([
    ['model.w', { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }],
    ['optimizer.momentum.w', { shape: [2, 2], data: new Float32Array(4) }],
  ]);
  fs.writeFileSync(file, encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, state }));
}

const DETECTOR = { kind: 'resdet-detector', backbone: 'resnet18', classes: ['circle', 'square'], detector: {}, input: { minSize: 32, maxSize: 48, norm: 'torchvision' } };

/** A raw HTTP request: the target goes on the wire exactly as given (fetch would normalise it). */
function request(port: number, target: string, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('tools/web server', () => {
  const root = tmpDir('resdet-serve-');
  const site = path.join(root, 'site');
  let server: SiteServer;
  before(async () => {
    fs.mkdirSync(path.join(site, 'wasm'), { recursive: true });
    fs.writeFileSync(path.join(site, 'index.html'), '<p>page</p>');
    fs.writeFileSync(path.join(site, 'wasm', 'a.wasm'), 'wasm');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'SECRET');
    fs.symlinkSync(path.join(root, 'secret.txt'), path.join(site, 'link.txt'));
    server = await serveSite(site, '127.0.0.1', 0);
  });
  after(() => server.close());

  it('maps request targets to table keys, refusing anything that is not a plain name', () => {
    assert.equal(siteKey('/'), '/');
    assert.equal(siteKey('/index.html?x=1#y'), '/index.html');
    assert.equal(siteKey('/wasm/a%2Ewasm'), '/wasm/a.wasm');
    for (const bad of ['/../x', '/%2e%2e/x', '/%2E%2E', '/a%2fb', '/a%5cb', '/a%00b', '//etc/passwd', '/wasm/', '/%zz', 'http://h/x', '*', '']) {
      assert.equal(siteKey(bad), undefined, bad);
    }
  });

  it('lists regular files only (a symbolic link out of the folder is not served)', () => {
    assert.deepEqual([...listSite(site).keys()].sort(), ['/', '/index.html', '/wasm/a.wasm']);
  });

  it('serves its files with their types and cross-origin isolation headers', async () => {
    const page = await request(server.port, '/');
    assert.equal(page.status, 200);
    assert.equal(page.body, '<p>page</p>');
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(page.headers['cross-origin-embedder-policy'], 'require-corp');
    const wasm = await request(server.port, '/wasm/a.wasm');
    assert.deepEqual([wasm.status, wasm.body, wasm.headers['content-type']], [200, 'wasm', 'application/wasm']);
    const head = await request(server.port, '/index.html', 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);
  });

  it('answers 404 to traversal, encoded traversal and slashes, absolute paths, links out and missing files; never the file outside', async () => {
    const targets = [
      '/../secret.txt', '/wasm/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/%2e%2e%2fsecret.txt', '/wasm%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt', `/${encodeURIComponent(path.join(root, 'secret.txt'))}`, `/${path.join(root, 'secret.txt')}`, '//etc/passwd', '/etc/passwd',
      `http://127.0.0.1:${server.port}/../secret.txt`, '/link.txt', '/missing.js', '/wasm/', '/index.html%00.js', '/%zz',
    ];
    for (const t of targets) {
      const r = await request(server.port, t);
      assert.equal(r.status, 404, `${t}: ${r.status}`);
      assert.ok(!r.body.includes('SECRET'), t);
    }
  });

  it('answers 405 with Allow to methods other than GET and HEAD', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await request(server.port, '/index.html', m);
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });
});

describe('tools: resdet serve / export', function () {
  this.timeout(120_000);
  const root = tmpDir('resdet-serve-cli-');
  const checkpoint = path.join(root, 'detector.safetensors');
  const classifier = path.join(root, 'classifier.safetensors');
  before(() => {
    fakeCheckpoint(checkpoint, DETECTOR);
    fakeCheckpoint(classifier, { model: 'resnet20', classes: 10 });
  });

  it('serve prints its loopback URL, serves the page and the weights, and stops on SIGINT with status 0', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/resdet.js'), 'serve', '--checkpoint', checkpoint, '--port', '0'], { cwd: REPO_ROOT });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /at (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C stops\)/.exec(out);
          if (m) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`serve exited early: ${out}${err}`)));
      });
      assert.match(out, /^resdet serve: resnet18 detector \(2 classes\) at http:\/\/127\.0\.0\.1:\d+\//);
      const port = Number(new URL(url).port);
      const page = await request(port, '/');
      assert.equal(page.status, 200);
      assert.match(page.body, /<script type="module" src="resdet.js"><\/script>/);
      for (const f of ['/resdet.js', '/style.css', '/site.json', '/wasm/tfjs-backend-wasm-simd.wasm']) assert.equal((await request(port, f)).status, 200, f);
      const weights = await request(port, '/model.safetensors');
      assert.equal(weights.status, 200);
      // the model tensor is there, the optimiser's momentum is not
      assert.ok(weights.body.includes('"model.w"') && !weights.body.includes('optimizer.momentum'), weights.body.slice(0, 200));
      assert.equal((await request(port, '/../detector.safetensors')).status, 404);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, err);
    assert.match(err, /resdet serve: stopped \(SIGINT\)/);
  });

  it('serve and export refuse a checkpoint that is not a detector, and a bad port', () => {
    for (const args of [['serve', '--checkpoint', classifier, '--port', '0'], ['export', '--checkpoint', classifier, '--out', path.join(root, 'no')]]) {
      const r = runCli(args);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^resdet: error: .*classifier\.safetensors: config\.kind: expected a detector checkpoint/);
    }
    assert.ok(!fs.existsSync(path.join(root, 'no')));
    const r = runCli(['serve', '--checkpoint', checkpoint, '--port', 'http']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^resdet: error: --port: expected an integer from 0 to 65535, got "http"/);
  });

  it('export writes the static site; a non-empty folder needs --force', () => {
    const out = path.join(root, 'site');
    const sample = path.join(root, 'sample.png');
    fs.writeFileSync(sample, 'not checked here');
    const r = runCli(['export', '--checkpoint', checkpoint, '--out', out, '--sample', sample]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['index.html', 'model.safetensors', 'resdet.js', 'sample.png', 'site.json', 'style.css', 'wasm']);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'site.json'), 'utf8')), { checkpoint: 'model.safetensors', name: 'detector.safetensors', sample: 'sample.png' });
    assert.equal(fs.readdirSync(out, { withFileTypes: true }).filter((e) => e.name.startsWith('.')).length, 0);
    assert.equal(fs.readdirSync(root).filter((n) => n.includes('.tmp-')).length, 0, 'temporary folder left behind');
    fs.writeFileSync(path.join(out, 'mine.txt'), 'x');
    const again = runCli(['export', '--checkpoint', checkpoint, '--out', out]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /--out: .* is not empty; pass --force to replace it/);
    assert.ok(fs.existsSync(path.join(out, 'mine.txt')));
    const forced = runCli(['export', '--checkpoint', checkpoint, '--out', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.ok(!fs.existsSync(path.join(out, 'mine.txt')) && !fs.existsSync(path.join(out, 'sample.png')));
  });
});
