/**
 * Builds resdet's native CPU backend (src/backend/native/addon/*.cc over oneDNN) into
 * src/backend/native/build/resdet_native.node. Runs at `npm install` (package.json "install")
 * and as `npm run build:native`.
 *
 * No node-gyp: its header download fails offline. The Node-API headers come from the running
 * Node's own include folder, else from the `node-api-headers` package. When the compiler or
 * oneDNN (libdnnl-dev) is missing, the build prints one line that says how to get the fast
 * backend and exits 0, so `npm install` still succeeds and resdet runs on wasm.
 *
 * Flags: --force (rebuild even when up to date), --strict (exit 1 when the build fails: CI).
 * Environment: CXX (the compiler, default g++), DNNL_ROOT (a oneDNN prefix with include/ and lib/).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = path.join(ROOT, 'src/backend/native/addon');
const OUT_DIR = path.join(ROOT, 'src/backend/native/build');
export const ADDON = path.join(OUT_DIR, 'resdet_native.node');
const HOW = 'apt-get install g++ libdnnl-dev, then npm run build:native';

class BuildError extends Error {}

function nodeApiInclude(): string {
  const candidates = [path.resolve(path.dirname(process.execPath), '../include/node')];
  try {
    const require = createRequire(import.meta.url);
    candidates.push(path.dirname(require.resolve('node-api-headers/include/node_api.h')));
  } catch {
    // package absent: the Node include folder is the only candidate
  }
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
  if (!found) throw new BuildError(`no Node-API headers (looked in ${candidates.join(', ')})`);
  return found;
}

function compiler(): string {
  const cxx = process.env.CXX || 'g++';
  try {
    execFileSync(cxx, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new BuildError(`no C++ compiler (${cxx})`);
  }
  return cxx;
}

function dnnlFlags(): { include: string[]; lib: string[] } {
  const roots = [process.env.DNNL_ROOT, '/usr', '/usr/local', '/opt/intel/oneapi/dnnl/latest'].filter((r): r is string => !!r);
  const root = roots.find((r) => fs.existsSync(path.join(r, 'include/oneapi/dnnl/dnnl.hpp')));
  if (!root) throw new BuildError('oneDNN headers not found (libdnnl-dev)');
  const libDirs = [path.join(root, 'lib'), path.join(root, 'lib64'), path.join(root, 'lib/x86_64-linux-gnu'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu'];
  const libDir = libDirs.find((d) => fs.existsSync(path.join(d, 'libdnnl.so')));
  if (!libDir) throw new BuildError('libdnnl.so not found (libdnnl-dev)');
  return { include: root === '/usr' ? [] : [`-I${path.join(root, 'include')}`], lib: [`-L${libDir}`, `-Wl,-rpath,${libDir}`, '-ldnnl'] };
}

function upToDate(): boolean {
  if (!fs.existsSync(ADDON)) return false;
  const built = fs.statSync(ADDON).mtimeMs;
  return fs.readdirSync(SRC).every((f) => fs.statSync(path.join(SRC, f)).mtimeMs <= built);
}

function run(cmd: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new BuildError(e.message)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else {
        const first = err.split('\n').find((l) => /error/i.test(l)) ?? err.split('\n')[0];
        reject(new BuildError(`${path.basename(argv[argv.length - 1])}: ${first.trim().slice(0, 300)}`));
      }
    });
  });
}

/** Compiles every .cc (as many at a time as there are cores), links, and checks the addon loads. */
async function build(): Promise<string> {
  const cxx = compiler();
  const napi = nodeApiInclude();
  const dnnl = dnnlFlags();
  const objDir = path.join(OUT_DIR, 'obj');
  fs.mkdirSync(objDir, { recursive: true });
  const sources = fs.readdirSync(SRC).filter((f) => f.endsWith('.cc')).sort();
  const flags = ['-std=c++17', '-O3', '-fPIC', '-fopenmp', '-fvisibility=hidden', '-DNAPI_VERSION=8', `-I${napi}`, ...dnnl.include];
  const queue = [...sources];
  const workers = Array.from({ length: Math.max(1, Math.min(os.availableParallelism(), sources.length)) }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      await run(cxx, [...flags, '-c', '-o', path.join(objDir, f.replace(/\.cc$/, '.o')), path.join(SRC, f)]);
    }
  });
  await Promise.all(workers);
  const tmp = path.join(OUT_DIR, 'resdet_native.tmp.node'); // .node: require() loads it as an addon
  await run(cxx, ['-shared', '-fopenmp', '-o', tmp, ...sources.map((f) => path.join(objDir, f.replace(/\.cc$/, '.o'))), ...dnnl.lib]);
  // Load it in a child process: a broken .so must not replace a working one.
  const probe = execFileSync(process.execPath, ['-e', `const a = require(${JSON.stringify(tmp)}); const i = a.info(); console.log('oneDNN ' + i.version + ', ' + i.isa)`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  fs.renameSync(tmp, ADDON);
  return probe.trim();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const strict = argv.includes('--strict');
  if (!argv.includes('--force') && upToDate()) {
    console.log('resdet: native backend up to date');
    return;
  }
  try {
    const what = await build();
    console.log(`resdet: native backend built (${what})`);
  } catch (err) {
    const why = err instanceof BuildError ? err.message : err instanceof Error ? err.message.split('\n')[0] : String(err);
    console.log(`resdet: native backend not built (${why}); resdet runs on the wasm backend. For the fast CPU backend: ${HOW}`);
    if (strict) process.exitCode = 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
