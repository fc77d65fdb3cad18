/**
 * `resdet eval`: the parent of the evaluation subcommands (`eval voc`, `eval coco`), each in its
 * own file exporting `registerEvalX(evalCmd)`; add one line here per subcommand.
 */
import type { Command } from 'commander';
import { registerEvalCoco } from './eval-coco.ts';
import { registerEvalVoc } from './eval-voc.ts';

/** Adds `eval` and its subcommands to the program. */
export function registerEval(program: Command): void {
  const evalCmd = program
    .command('eval')
    .description('mAP evaluation with the exact semantics of the reference tools (pycocotools, voc_eval)');
  registerEvalCoco(evalCmd);
  registerEvalVoc(evalCmd);
}
