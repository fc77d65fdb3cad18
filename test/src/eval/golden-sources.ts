/**
 * Where the golden evaluation cases live, for the golden tests (COCO, VOC, and the CLI tests):
 *
 * - test/fixtures/eval-golden: small cases in the repository, generated with
 *   `tools/parity/pycocotools_eval.py --golden` (pycocotools COCOeval and the classic voc_eval);
 *   present in every clone, so their tests always run;
 * - ../shared/eval-golden: the larger cases beside the repository, when present (a user's clone
 *   has none; their tests then skip with a message).
 *
 * Both use one layout (../shared/eval-golden/README.md): `coco/<case>/{gt,dets,expected}.json`,
 * `voc/<case>/{Annotations,ImageSets/Main/test.txt,results,expected.json}`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVAL_GOLDEN, REPO_ROOT } from '../../helpers/cli.ts';

/** One folder of golden cases. */
export interface GoldenSource {
  /** short name for test titles */
  label: string;
  /** the folder holding coco/ and voc/ */
  dir: string;
  /** true: the folder must exist (the in-repo fixtures); false: skip when it is absent */
  required: boolean;
}

/** The in-repository fixtures. */
export const FIXTURE_GOLDEN = path.join(REPO_ROOT, 'test/fixtures/eval-golden');

/** The fixtures first (always), then ../shared/eval-golden (when present). */
export const GOLDEN_SOURCES: readonly GoldenSource[] = [
  { label: 'fixtures', dir: FIXTURE_GOLDEN, required: true },
  { label: '../shared', dir: EVAL_GOLDEN, required: false },
];

/** The case names of one kind in a source, sorted; [] when the folder is absent. */
export function goldenCases(source: GoldenSource, kind: 'coco' | 'voc'): string[] {
  const dir = path.join(source.dir, kind);
  if (!fs.existsSync(dir)) {
    if (source.required) throw new Error(`${dir} is missing: the golden fixtures are part of the repository`);
    return [];
  }
  return fs.readdirSync(dir).filter((n) => fs.statSync(path.join(dir, n)).isDirectory()).sort();
}
