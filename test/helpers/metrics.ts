/** Comparing metrics with golden numbers (../shared/eval-golden/README.md: tolerance 1e-9, -1 exact). */
import assert from 'node:assert/strict';

/** Equal within 1e-9, and exactly -1 where the reference says -1. */
export function assertMetric(got: number, want: number, what: string): void {
  if (want === -1) assert.equal(got, -1, `${what}: expected exactly -1, got ${got}`);
  else assert.ok(Math.abs(got - want) <= 1e-9, `${what}: expected ${want}, got ${got} (diff ${got - want})`);
}
