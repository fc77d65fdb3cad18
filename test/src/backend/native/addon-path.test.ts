/**
 * builtAddon: where the addon loader looks for the compiled addon. In the source tree beside
 * itself; compiled into a package's dist/ it uses the one `npm install` built beside the
 * sources (the install script, tools/native/build.ts, writes src/backend/native/build/).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { builtAddon } from '../../../../src/backend/native/addon.ts';

describe('src/backend/native/addon: builtAddon', function () {
  it('looks in ./build beside the loader in the source tree', function () {
    const here = path.join('/repo', 'src', 'backend', 'native');
    assert.equal(builtAddon(here), path.join(here, 'build', 'resdet_native.node'));
  });

  it('looks in the package sources from the compiled loader', function () {
    const pkg = path.join('/app', 'node_modules', 'resdet');
    assert.equal(builtAddon(path.join(pkg, 'dist', 'src', 'backend', 'native')), path.join(pkg, 'src', 'backend', 'native', 'build', 'resdet_native.node'));
  });

  it('does not take another dist folder for the package', function () {
    // a checkout inside some dist/ folder is a source tree all the same
    const here = path.join('/dist', 'repo', 'src', 'backend', 'native');
    assert.equal(builtAddon(here), path.join(here, 'build', 'resdet_native.node'));
  });
});
