/**
 * The static site of `resdet serve` and `resdet export`: one folder that any static web server
 * can serve, with nothing to install on the server.
 *
 *   index.html, style.css    the page (tools/web/)
 *   resdet.js                the browser bundle: tasks/detection/browser.ts (the detector, the
 *                            backends) and the page's UI, built now by esbuild (a dependency of
 *                            resdet, so a user's machine bundles it: no build step in the package)
 *   wasm/*.wasm              tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD)
 *   model.safetensors        the checkpoint's model tensors and config (the optimiser's momentum,
 *                            useless for inference, left out: about half the bytes)
 *   sample.<ext>             optional: an image the page offers to try
 *
 * The folder is written to a temporary name beside the target and renamed into place, so a
 * reader never sees half a site.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { inputError, quote, UserError } from '../../src/errors.ts';
import { checkJsonDepth } from '../../src/io/json.ts';
import { CHECKPOINT_FORMAT } from '../../src/train/checkpoint.ts';
import { encodeSafetensors, readSafetensorsHeader, type SafetensorsArray } from '../../src/weights/safetensors.ts';
import { detectorSpecOf, type DetectorSpec } from '../../tasks/detection/model.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The bundle's entry: the browser API plus the page. */
export const BROWSER_ENTRY = path.join(HERE, 'entry.ts');
const STATIC_FILES = ['index.html', 'style.css'];
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
/** Sample image extensions the page can show. */
const SAMPLE_TYPES = ['.png', '.jpg', '.jpeg', '.webp'];

/**
 * Bundles the browser entry into `outfile` (ES module, minified, platform browser: a Node-only
 * import anywhere in the graph fails the build).
 * @returns esbuild's metafile (every input file and its imports)
 * @throws Error with esbuild's messages when the bundle cannot be built
 */
export async function bundleBrowser(outfile: string, entry = BROWSER_ENTRY): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
  }).catch((err: esbuild.BuildFailure) => {
    const lines = (err.errors ?? []).map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
    throw new Error(`the browser bundle could not be built:\n${lines.join('\n') || err.message}`);
  });
  return result.metafile;
}

/**
 * Reads a detector checkpoint for the web: checks that it is a resdet detector checkpoint and
 * keeps only its model tensors (same metadata, same tensor bytes).
 * @throws UserError naming the file and what is wrong (unreadable, not a checkpoint, not a detector)
 */
export function webCheckpoint(file: string): { bytes: Uint8Array; spec: DetectorSpec } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw inputError(file, '', `cannot read checkpoint (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const { entries, metadata, dataStart } = readSafetensorsHeader(buf, file, { expected: 'a resdet checkpoint (safetensors)', dtypes: ['F32', 'I32'], contiguous: true });
  if (metadata.format !== CHECKPOINT_FORMAT) throw inputError(file, '__metadata__.format', `expected ${quote(CHECKPOINT_FORMAT)} (a checkpoint written by resdet train-detector), got ${quote(metadata.format)}`);
  checkJsonDepth(String(metadata.state), file, '__metadata__.state');
  let state: { config?: unknown };
  try {
    state = JSON.parse(String(metadata.state)) as { config?: unknown };
  } catch {
    throw inputError(file, '__metadata__.state', `expected a JSON string, got ${quote(metadata.state)}`);
  }
  const spec = detectorSpecOf(state?.config, file);
  const tensors = new Map<string, SafetensorsArray>();
  for (const e of entries) {
    if (!e.name.startsWith('model.')) continue;
    const bytes = buf.buffer.slice(buf.byteOffset + dataStart + e.begin, buf.byteOffset + dataStart + e.end);
    tensors.set(e.name, { shape: e.shape, data: e.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes) });
  }
  if (tensors.size === 0) throw inputError(file, 'tensors', 'expected the model\'s tensors (model.*), found none');
  return { bytes: encodeSafetensors(tensors, metadata), spec };
}

/** Options of {@link writeSite}. */
export interface SiteOptions {
  /** a detector checkpoint written by `resdet train-detector` */
  checkpoint: string;
  /** an image the page offers as a sample */
  sample?: string;
}

/**
 * Writes the site into `dir` (see the module comment), atomically: a temporary folder beside it,
 * renamed over it. `dir` must not exist or be empty unless `force` (then it is replaced).
 * @returns the detector spec of the checkpoint
 * @throws UserError for a bad checkpoint or sample, or a non-empty `dir` without `force`
 */
export async function writeSite(dir: string, opts: SiteOptions, force = false): Promise<DetectorSpec> {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new UserError(`--out: ${dir} exists and is not a folder`);
    if (fs.readdirSync(target).length > 0 && !force) throw new UserError(`--out: ${dir} is not empty; pass --force to replace it`);
  }
  const { bytes, spec } = webCheckpoint(opts.checkpoint);
  let sampleExt: string | undefined;
  if (opts.sample) {
    sampleExt = path.extname(opts.sample).toLowerCase();
    if (!SAMPLE_TYPES.includes(sampleExt)) throw inputError(opts.sample, '', `expected a sample image named ${SAMPLE_TYPES.join(', ')}, got ${quote(sampleExt || '(no extension)')}`);
    if (!fs.statSync(opts.sample, { throwIfNoEntry: false })?.isFile()) throw inputError(opts.sample, '', 'expected a sample image file, found none');
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    await bundleBrowser(path.join(tmp, 'resdet.js'));
    for (const f of STATIC_FILES) fs.copyFileSync(path.join(HERE, f), path.join(tmp, f));
    const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    fs.mkdirSync(path.join(tmp, 'wasm'));
    for (const f of WASM_FILES) fs.copyFileSync(path.join(wasmDir, 'dist', f), path.join(tmp, 'wasm', f));
    fs.writeFileSync(path.join(tmp, 'model.safetensors'), bytes);
    const config: Record<string, string> = { checkpoint: 'model.safetensors', name: path.basename(opts.checkpoint) };
    if (sampleExt && opts.sample) {
      fs.copyFileSync(opts.sample, path.join(tmp, `sample${sampleExt}`));
      config.sample = `sample${sampleExt}`;
    }
    fs.writeFileSync(path.join(tmp, 'site.json'), `${JSON.stringify(config, null, 1)}\n`);
    // the site is readable by the web server whatever the umask of mkdtemp (0700)
    fs.chmodSync(tmp, 0o755);
    if (fs.existsSync(target)) {
      const old = `${tmp}-old`;
      fs.renameSync(target, old);
      fs.renameSync(tmp, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return spec;
}
