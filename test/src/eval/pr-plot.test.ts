/** Drawing precision-recall plots: the SVG's content, PNG files that decode, file names, bad folders. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { cocoPrCurves, vocPrCurves, type PrPlots } from '../../../src/eval/pr-curves.ts';
import { preparePlotDir, prPlotFileNames, prPlotSvg, writePrPlots } from '../../../src/eval/pr-plot.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { tinyCoco, tinyVoc } from './report-cases.ts';

describe('src/eval/pr-plot', () => {
  it('the SVG has the title, both axes, and a legend with the APs', () => {
    const svg = prPlotSvg(cocoPrCurves(tinyCoco()).perClass[0]);
    assert.match(svg, /^<svg [^>]*width="640" height="560"/);
    for (const text of ['COCO bbox: cat (id 1)', '>recall<', '>precision<', 'IoU=0.50  AP50 0.835', 'IoU=0.50:0.95  AP 0.604', '>0.5<', '>1.0<']) {
      assert.ok(svg.includes(text), `missing ${text}`);
    }
    assert.equal((svg.match(/<path /g) ?? []).length, 2); // two curves
  });

  it('escapes class names and says when no class has GT', () => {
    const plots: PrPlots = { overall: { className: '', title: 'a <b> & "c"', note: '', curves: [] }, perClass: [], skipped: [] };
    const svg = prPlotSvg(plots.overall);
    assert.ok(svg.includes('a &lt;b&gt; &amp; &quot;c&quot;'));
    assert.ok(svg.includes('no class has ground truth'));
  });

  it('names files pr-overall.png and pr-<position>-<class>.png', () => {
    const ev = tinyVoc();
    const names = ['cat', 'dog', 'bird', ...Array.from({ length: 9 }, (_, i) => `x${i}`)];
    const plots = vocPrCurves(ev.evaluate(), ev.curves());
    assert.deepEqual(prPlotFileNames(plots, names), ['pr-overall.png', 'pr-01-cat.png']);
    const odd = { ...plots, perClass: [{ ...plots.perClass[0], className: 'Traffic Light/2' }] };
    assert.deepEqual(prPlotFileNames(odd, ['Traffic Light/2']), ['pr-overall.png', 'pr-1-traffic-light-2.png']);
  });

  it('writes PNGs that decode at the plot size', async () => {
    const dir = path.join(tmpDir('resdet-prplot-'), 'new', 'plots'); // created on the way
    const r = tinyCoco();
    const files = await writePrPlots(dir, cocoPrCurves(r), r.perCategory.map((c) => c.name), { width: 480, height: 400 });
    assert.deepEqual(files.map((f) => path.basename(f)), ['pr-overall.png', 'pr-1-cat.png']);
    for (const f of files) {
      const meta = await sharp(f).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 480, 400], f);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['pr-1-cat.png', 'pr-overall.png']); // no temporary files left
  });

  it('refuses a plot folder that is a file, naming the field', () => {
    const file = path.join(tmpDir('resdet-prplot-'), 'f.txt');
    fs.writeFileSync(file, 'x');
    assert.throws(() => preparePlotDir(file, '--plot'), /^UserError: --plot: expected a folder for the plots, got ".*f\.txt", which is a file$/);
    assert.throws(() => preparePlotDir(path.join(file, 'sub')), /^UserError: plotDir: cannot create or write the folder .* \(ENOTDIR\)$/);
  });
});
