/**
 * The browser build imports nothing Node-only: esbuild bundles tools/web/entry.ts (the browser
 * API of tasks/detection/browser.ts and the page) for platform 'browser', where a Node built-in
 * fails to resolve; and the import graph esbuild walked is checked file by file, so a module of
 * resdet that names fs, sharp, worker_threads or any node: module fails here with its name.
 */
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { bundleBrowser } from '../../tools/web/site.ts';
import { tmpDir } from '../helpers/tmp.ts';

/** Specifiers a browser cannot load: Node built-ins (with or without `node:`) and native packages. */
function nodeOnly(specifier: string): boolean {
  const bare = specifier.replace(/^node:/, '').split('/')[0];
  return specifier.startsWith('node:') || builtinModules.includes(bare) || /^(sharp|h5wasm|@tensorflow\/tfjs-node(-gpu)?)(\/|$)/.test(specifier);
}

describe('browser bundle', function () {
  this.timeout(120_000);

  it('builds for the browser, and no resdet module on its import graph imports a Node-only module', async () => {
    const out = path.join(tmpDir('resdet-bundle-'), 'resdet.js');
    const meta = await bundleBrowser(out);
    assert.ok(fs.statSync(out).size > 100_000, 'bundle suspiciously small');
    const own = Object.keys(meta.inputs).filter((f) => !f.includes('node_modules/') && !f.startsWith('('));
    // the detector's whole inference path is in the graph (so the check below covers it)
    for (const f of ['tasks/detection/browser.ts', 'tasks/detection/detect-image.ts', 'tasks/detection/spec.ts', 'src/train/checkpoint-bytes.ts',
      'src/image/bilinear.ts', 'detectors/faster-rcnn.ts', 'backbones/resnet.ts', 'src/boxes/nms.ts', 'src/nn/fuse.ts']) {
      assert.ok(own.includes(f), `${f} is not in the bundle`);
    }
    const bad = own.flatMap((f) => meta.inputs[f].imports.filter((i) => nodeOnly(i.original ?? i.path)).map((i) => `${f} imports ${i.original ?? i.path}`));
    assert.deepEqual(bad, []);
    // Node modules stubbed out by packages' "browser" fields are only ever imported by those packages
    const stubbedFrom = Object.entries(meta.inputs).flatMap(([f, inp]) => inp.imports.filter((i) => i.path.startsWith('(disabled)')).map(() => f));
    assert.deepEqual(stubbedFrom.filter((f) => !f.includes('node_modules/')), []);
    // and the Node-side modules of resdet never got in
    assert.deepEqual(own.filter((f) => /^(src\/backend\/(native|threads|index)|src\/parallel|src\/io\/(atomic|json|lock)\.ts|datasets\/detection\/mapper|tasks\/detection\/(inference|model|draw)\.ts)/.test(f)), []);
  });
});
