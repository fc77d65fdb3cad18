/**
 * tools/native/build.ts where the fast backend cannot be built (issue 8, "Build without
 * downloads"): `npm install` must still succeed, with one line saying how to get it; --strict
 * (CI) fails instead. A failed build never replaces an addon that was built before.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.ts';

const ADDON = path.join(REPO_ROOT, 'src/backend/native/build/resdet_native.node');

function build(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tools/native/build.ts'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
}

describe('tools/native/build.ts without a compiler', () => {
  it('prints one line saying how to get the native backend and exits 0 (1 with --strict), keeping a built addon', () => {
    const before = fs.existsSync(ADDON) ? fs.statSync(ADDON).mtimeMs : undefined;
    const r = build(['--force'], { CXX: '/nonexistent/g++' });
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'resdet: native backend not built (no C++ compiler (/nonexistent/g++)); resdet runs on the wasm backend. For the fast CPU backend: apt-get install g++ libdnnl-dev, then npm run build:native\n');
    assert.equal(build(['--force', '--strict'], { CXX: '/nonexistent/g++' }).status, 1);
    assert.equal(fs.existsSync(ADDON) ? fs.statSync(ADDON).mtimeMs : undefined, before);
  });
});
