/**
 * The tiny shapes set and detector sizes the CLI detection tests share: the smallest that
 * exercise every stage (make-shapes -> train -> evaluate) while keeping the suite fast on 2 cores.
 */
import { runCli, type CliResult } from './cli.ts';

/** train-detector / compare-backbones flags for tiny inputs: shorter side 32, longer side <= 48, 2 images per update */
export const TINY_DETECTOR_FLAGS: readonly string[] = ['--min-size', '32', '--max-size', '48', '--batch-size', '2'];

/** make-shapes arguments for 10 images of 64x48 (8 train, 2 val/test), classes circle and square */
export function tinyShapesArgs(out: string): string[] {
  return ['make-shapes', '--out', out, '--images', '10', '--size', '64x48', '--classes', 'circle,square', '--objects', '1,3', '--seed', '3'];
}

/** Writes the tiny shapes set to `out` through the CLI; throws when make-shapes fails. */
export function makeTinyShapes(out: string): CliResult {
  const r = runCli(tinyShapesArgs(out));
  if (r.status !== 0) throw new Error(`make-shapes failed: ${r.stderr}`);
  return r;
}
