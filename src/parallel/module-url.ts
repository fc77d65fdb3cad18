/**
 * URLs of modules handed to worker threads (replica modules). The compiler rewrites `.ts`
 * import specifiers to `.js` when it builds the package (dist/), but not URLs, so a module
 * names its sibling with its own extension: `.ts` in the source tree (run through tsx), `.js`
 * in the compiled package.
 */
import path from 'node:path';

/**
 * The URL of module `name` beside the module at `from`, with `from`'s extension.
 * @param from the calling module's `import.meta.url`
 * @param name the sibling's file name without extension, e.g. 'replica'
 */
export function siblingModule(from: string, name: string): string {
  return new URL(`./${name}${path.posix.extname(new URL(from).pathname)}`, from).href;
}
