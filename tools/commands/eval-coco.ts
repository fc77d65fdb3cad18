/**
 * `resdet eval coco`: COCO bbox AP/AR of a results file against an instances file, with
 * pycocotools' exact semantics (src/eval/coco.ts). Interface fixed by issue 2 (other tools call it):
 *
 *     resdet eval coco --gt GT.json --dets DETS.json [--json] [--plot DIR] [--per-class csv|md] [--per-class-out FILE]
 *
 * Without --json it prints pycocotools' 12 summary lines; with --json exactly one object
 * `{"stats": [12 numbers], "perCategory": [{"categoryId", "name", "ap", "ap50", "ap75", "ar100"}]}`.
 * --plot and --per-class (./eval-report.ts) add precision-recall PNGs (IoU 0.5 and 0.50:0.95) and
 * the per-category table (AP, AP50, AP75, APs, APm, APl, AR100).
 * RESDET_TIMING=1 adds a `timing` JSON line on stderr (load and evaluation seconds, peak RSS; for
 * the benchmark, tools/bench/eval.ts).
 */
import type { Command } from 'commander';
import { loadCocoInstances } from '../../datasets/coco/annotations.ts';
import { loadCocoResults } from '../../datasets/coco/results.ts';
import { evaluateCoco, type CocoEvalResult } from '../../src/eval/coco-evaluator.ts';
import { cocoPerClassTable } from '../../src/eval/per-class-table.ts';
import { cocoPrCurves } from '../../src/eval/pr-curves.ts';
import { addReportOptions, checkReportOptions, writeReports, type EvalReportOptions } from './eval-report.ts';

interface EvalCocoOptions extends EvalReportOptions {
  gt: string;
  dets: string;
  json?: boolean;
}

/** The --json object: the 12 stats and the per-category table, nothing else. */
export function cocoJsonReport(r: CocoEvalResult): { stats: number[]; perCategory: CocoEvalResult['perCategory'] } {
  return {
    stats: r.stats,
    perCategory: r.perCategory.map((c) => ({ categoryId: c.categoryId, name: c.name, ap: c.ap, ap50: c.ap50, ap75: c.ap75, ar100: c.ar100 })),
  };
}

/** Loads both files and evaluates; bad input throws a UserError naming file, record and field. */
export function evalCoco(opts: EvalCocoOptions): CocoEvalResult {
  const t0 = performance.now(), c0 = process.cpuUsage();
  const gt = loadCocoInstances(opts.gt);
  const dets = loadCocoResults(opts.dets); // ids are checked against gt in evaluateCoco
  const t1 = performance.now(), c1 = process.cpuUsage(c0);
  const result = evaluateCoco(gt, dets, {}, opts.dets);
  const t2 = performance.now(), c2 = process.cpuUsage(c0);
  if (process.env.RESDET_TIMING === '1') {
    const usage = process.resourceUsage();
    const timing = {
      loadSeconds: (t1 - t0) / 1000,
      evalSeconds: (t2 - t1) / 1000,
      // the same two stages in CPU seconds (user + system), which a busy machine inflates far less
      loadCpuSeconds: (c1.user + c1.system) / 1e6,
      evalCpuSeconds: (c2.user + c2.system - c1.user - c1.system) / 1e6,
      // CPU of the whole process so far (start-up included), less sensitive to a busy machine than wall time
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      peakRssMB: usage.maxRSS / 1024, // maxRSS is in KiB
    };
    process.stderr.write(`timing ${JSON.stringify(timing)}\n`);
  }
  return result;
}

/** Adds `eval coco` to the `eval` command. */
export function registerEvalCoco(evalCmd: Command): void {
  const cmd = evalCmd
    .command('coco')
    .description('COCO bbox AP/AR (12 pycocotools stats and per-category AP) of a results file')
    .requiredOption('--gt <file>', 'COCO instances JSON (images, annotations, categories)')
    .requiredOption('--dets <file>', 'COCO results JSON: [{image_id, category_id, bbox: [x, y, w, h], score}]')
    .option('--json', 'print one JSON object {"stats": [...12], "perCategory": [...]}');
  addReportOptions(cmd, 'IoU 0.5 and 0.50:0.95')
    .action(async (opts: EvalCocoOptions) => {
      const format = await checkReportOptions(opts);
      const r = evalCoco(opts);
      const head = opts.json ? `${JSON.stringify(cocoJsonReport(r))}\n` : `${r.summary.join('\n')}\n`;
      const tail = await writeReports(opts, format, () => cocoPerClassTable(r), () => cocoPrCurves(r), r.perCategory.map((c) => c.name));
      process.stdout.write(head + tail);
    });
}
