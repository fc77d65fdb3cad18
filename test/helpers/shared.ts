/** Skips a suite with a clear message when ../shared is absent (a user's clone). */
import fs from 'node:fs';

export function requireShared(ctx: Mocha.Context, dir: string): void {
  if (!fs.existsSync(dir)) {
    console.log(`      (skipped: ${dir} is absent; it holds the real data these tests need)`);
    ctx.skip();
  }
}
