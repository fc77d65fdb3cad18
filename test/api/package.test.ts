/**
 * Issue 11's acceptance for the package: `npm pack` the repository (its `prepack` compiles the
 * library into dist/), install the tarball into a fresh temporary project, compile a script
 * that imports only from 'resdet' (./consumer/smoke.ts) and the code of docs/api.md there with
 * tsc against the package's own .d.ts files, and run the script with plain `node` (no tsx, the
 * types stripped):
 * it trains a tiny detector (with a second worker thread, and a resume), reloads it, detects and
 * evaluates, and prints JSON that is checked here.
 *
 * Kept fast: the install uses the npm cache (`--prefer-offline`) and `--ignore-scripts` (no
 * native build in the temporary project: it loads the repository's built addon through
 * RESDET_NATIVE_ADDON, or runs on wasm where that addon is not built). Without the registry
 * and without a warm cache the install cannot resolve the dependencies: the test then skips
 * with one line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Report } from './consumer/smoke.ts';
import { tmpDir } from '../helpers/tmp.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ADDON = path.join(ROOT, 'src/backend/native/build/resdet_native.node');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** npm's messages when it cannot reach the registry (and the cache cannot stand in). */
const OFFLINE = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|network/i;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 1 && !stderr ? err.message : '') });
    });
  });
}

function expectOk(r: Ran, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

/** The ```ts blocks of a markdown file. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/**
 * The environment the consumer runs in: what an enclosing `npm test` sets about this repository
 * (its package fields, lifecycle and prefix) left out; the user's npm settings (registry, cache,
 * proxy) kept.
 */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle)_|^npm_config_(local_)?prefix$/i.test(k)));
  return { ...env, ...extra };
}

describe('package: the packed tarball, installed into a fresh project', function () {
  // Measured 59 s on the shared 2-core machine when quiet, 114-160 s while other jobs ran
  // (npx mocha test/api/package.test.ts): pack with its tsc build about 30 s, the install from
  // the npm cache 10-45 s, then tsc, the script and the command side by side.
  this.timeout(900_000);

  it('gives a plain-node ESM entry with types that trains, saves, reloads, detects and evaluates a detector', async function () {
    const tmp = tmpDir('resdet-package-');

    const packed = JSON.parse(expectOk(await run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT, cleanEnv({})), 'npm pack')) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0].files.map((f) => f.path);
    for (const need of ['dist/index.js', 'dist/index.d.ts', 'dist/src/parallel/worker-entry.js', 'dist/tasks/detection/replica.js', 'bin/resdet.js', 'tools/cli.ts', 'tools/native/build.ts', 'src/backend/native/addon/conv.cc']) {
      assert.ok(files.includes(need), `the package lacks ${need}`);
    }
    const bulk = files.filter((f) => /^(test|runs|docs|out|node_modules|tools\/(bench|parity))\//.test(f) || f.startsWith('src/backend/native/build/'));
    assert.deepEqual(bulk, [], 'the package holds tests, runs, docs or build output');

    const project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'resdet-consumer', private: true, type: 'module' }));
    const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', path.join(tmp, packed[0].filename)], project, cleanEnv({}));
    if (install.code !== 0 && OFFLINE.test(install.stderr + install.stdout)) {
      console.log(`      (skipped: npm cannot reach the registry to install the package's dependencies: ${(install.stderr.split('\n').find((l) => OFFLINE.test(l)) ?? '').trim()})`);
      this.skip();
    }
    expectOk(install, 'npm install of the tarball');

    // The consumer: the smoke script and every ```ts block of docs/api.md and README.md, compiled with the
    // strictest usual settings against node_modules/resdet's .d.ts files (no skipLibCheck).
    fs.copyFileSync(path.join(ROOT, 'test/api/consumer/smoke.ts'), path.join(project, 'smoke.ts'));
    const apiBlocks = tsBlocks(fs.readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8'));
    assert.ok(apiBlocks.length >= 4, `docs/api.md: expected its tour as ts blocks, got ${apiBlocks.length}`);
    const readmeBlocks = tsBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    assert.ok(readmeBlocks.length >= 1, 'README.md: expected its library example as a ts block');
    const blocks = [...apiBlocks, ...readmeBlocks];
    blocks.forEach((b, i) => fs.writeFileSync(path.join(project, `docs-${i + 1}.ts`), b));
    // The project's own @types (tfjs-core brings @types/long and, through its dependencies,
    // @types/node), as a user's default set-up sees them.
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true },
      files: ['smoke.ts', ...blocks.map((_, i) => `docs-${i + 1}.ts`)],
    }));
    const typecheck = run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);

    // Meanwhile the script runs as plain JavaScript (types stripped) under plain node.
    const js = ts.transpileModule(fs.readFileSync(path.join(project, 'smoke.ts'), 'utf8'), { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
    fs.writeFileSync(path.join(project, 'smoke.js'), js.outputText);
    const env = fs.existsSync(ADDON) ? { RESDET_BACKEND: 'native', RESDET_NATIVE_ADDON: ADDON } : { RESDET_BACKEND: 'wasm' };
    const work = path.join(tmp, 'work');
    fs.mkdirSync(work);
    const smoke = run(process.execPath, [path.join(project, 'smoke.js'), work], project, cleanEnv(env));
    // and the package's command, which runs its shipped TypeScript sources through tsx
    const cli = run(process.execPath, [path.join(project, 'node_modules/resdet/bin/resdet.js'), 'info', '--json'], project, cleanEnv(env));
    expectOk(await typecheck, 'tsc --noEmit in the consumer project (the smoke script and docs/api.md against the package\'s types)');
    const out = expectOk(await smoke, 'node smoke.js');
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as Report;
    const info = JSON.parse(expectOk(await cli, 'resdet info --json from the installed package')) as { chosen: string };
    assert.equal(info.chosen, env.RESDET_BACKEND);

    assert.equal(r.backend, env.RESDET_BACKEND);
    // 2 updates, then resumed to 3 in total; every step logged once
    assert.deepEqual(r.steps, { first: 2, resumed: 3, onStep: [1, 2, 3], onLog: [1, 2, 3] });
    assert.equal(r.losses.length, 3);
    assert.ok(r.losses.every((l) => Number.isFinite(l) && l > 0), `losses ${r.losses}`);
    assert.deepEqual(r.classes, ['circle']);
    // 20 images, every 5th held out: 4 test images, each with D boxes of 4 numbers
    assert.equal(r.detections.length, 4);
    for (const d of r.detections) assert.deepEqual([d.boxes, d.labels], [4 * d.scores, d.scores], JSON.stringify(d));
    assert.ok(r.detections.some((d) => d.scores > 0), 'no detections at all');
    assert.ok(r.valid, 'a box outside its image, a score outside [0, 1] or a bad label');
    assert.ok(r.sameAfterReload, 'loading the checkpoint twice gave different detections');
    assert.ok(r.sameAfterImport, 'exported and re-imported weights gave different detections');
    for (const v of [r.voc.mAP07, r.voc.mAPArea]) assert.ok(v >= 0 && v <= 1, `VOC mAP ${v}`);
    for (const stats of [r.coco.stats, r.cocoSet.stats]) {
      assert.equal(stats.length, 12);
      // COCOeval's -1 marks an area range without ground truth
      assert.ok(stats.every((s) => s === -1 || (s >= 0 && s <= 1)), `COCO stats ${stats}`);
    }
    assert.equal(r.cocoSet.images, 4);
    assert.ok(r.pipelineAgrees, 'evaluateModel and evaluateDetections disagree');
    assert.equal(r.tensors.after, r.tensors.before, 'tensors leaked');
  });
});
