/** Per-class tables (CSV and Markdown) on the hand-worked cases of ./report-cases.ts. */
import assert from 'node:assert/strict';
import { cocoPerClassTable, formatTable, tableFormat, vocPerClassTable } from '../../../src/eval/per-class-table.ts';
import { tinyCoco, tinyVoc } from './report-cases.ts';

describe('src/eval/per-class-table', () => {
  it('COCO as Markdown: AP, AP50, AP75, area APs and AR100 per category, n/a without GT', () => {
    // cat: AP50 = (51 + 50 * 2/3) / 101 = 0.8350; AP75 = 51/101 = 0.5050 (the IoU-0.6 TP is an FP
    // there); AP = 61/101 = 0.6040; both GT are small (area 100), so APs = AP and APm, APl have
    // no GT; AR100 = (3 thresholds at recall 1 + 7 at 0.5) / 10 = 0.65. "all" = the summary.
    assert.equal(formatTable(cocoPerClassTable(tinyCoco()), 'md'), [
      '| class | id | AP | AP50 | AP75 | APs | APm | APl | AR100 |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      '| cat | 1 | 0.6040 | 0.8350 | 0.5050 | 0.6040 | n/a | n/a | 0.6500 |',
      '| dog, small | 2 | n/a | n/a | n/a | n/a | n/a | n/a | n/a |',
      '| all |  | 0.6040 | 0.8350 | 0.5050 | 0.6040 | n/a | n/a | 0.6500 |',
      '',
    ].join('\n'));
  });

  it('COCO as CSV: full precision, an empty field for -1, names with a comma quoted', () => {
    const r = tinyCoco();
    const lines = formatTable(cocoPerClassTable(r), 'csv').split('\n');
    assert.equal(lines[0], 'class,id,AP,AP50,AP75,APs,APm,APl,AR100');
    const cat = lines[1].split(',');
    assert.deepEqual(cat.slice(0, 2), ['cat', '1']);
    assert.deepEqual(cat.slice(2).map(Number), [r.perCategory[0].ap, r.perCategory[0].ap50, r.perCategory[0].ap75, r.perCategory[0].ap, 0, 0, r.perCategory[0].ar100]);
    assert.deepEqual(cat.slice(6, 8), ['', '']);
    assert.equal(lines[2], '"dog, small",2,,,,,,,');
    assert.equal(lines[3], `all,,${r.stats[0]},${r.stats[1]},${r.stats[2]},${r.stats[3]},,,${r.stats[8]}`);
    assert.equal(lines[4], '');
  });

  it('VOC: counts, both APs, nan where voc_eval gives NaN, and the mAP row', () => {
    // cat: rec [.5, .5, 1], prec [1, .5, 2/3]: area 0.5 + 0.5 * 2/3 = 0.8333, 11-point
    // (6 * 1 + 5 * 2/3) / 11 = 0.8485; dog: nothing, 0; bird: a detection, no GT: 0 and NaN.
    // mAP07 = 0.8485 / 3 = 0.2828; the area mean is NaN.
    const ev = tinyVoc();
    const r = ev.evaluate();
    assert.equal(formatTable(vocPerClassTable(r), 'md'), [
      '| class | GT | difficult | detections | AP07 | AParea |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      '| cat | 2 | 0 | 3 | 0.8485 | 0.8333 |',
      '| dog | 0 | 0 | 0 | 0.0000 | 0.0000 |',
      '| bird | 0 | 0 | 1 | 0.0000 | nan |',
      '| mAP | 2 | 0 | 4 | 0.2828 | nan |',
      '',
    ].join('\n'));
    assert.equal(formatTable(vocPerClassTable(r), 'csv').split('\n')[1], `cat,2,0,3,${r.ap07.cat},${r.apArea.cat}`);
  });

  it('escapes | in Markdown and checks the format name', () => {
    assert.equal(formatTable({ columns: ['class', 'AP'], rows: [['a|b', 0.5]] }, 'md').split('\n')[2], '| a\\|b | 0.5000 |');
    assert.equal(tableFormat('csv'), 'csv');
    assert.throws(() => tableFormat('xlsx', 'perClass'), /^UserError: perClass: expected csv or md, got "xlsx"$/);
  });
});
