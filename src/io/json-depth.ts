/**
 * The JSON nesting guard and error positions, with no file access (so the browser build's
 * checkpoint reader uses it too); src/io/json.ts re-exports it beside its file readers.
 */
import { inputError } from '../errors.ts';

/** 1-based line and column of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Deepest nesting of arrays and objects accepted in a JSON file. The deepest legitimate files
 * resdet reads (COCO instances: segmentation polygons) nest 4 levels; Python's json module stops
 * near 1000 (its recursion limit).
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * Throws a UserError naming the file, the limit and the place where JSON text nests deeper than
 * `maxDepth`. One pass over the characters (strings skipped): 0.15-0.2 s for a 46 MB COCO
 * results file whose JSON.parse took 0.9-1.9 s (fresh processes, load average 8).
 * @param text JSON text (possibly malformed: only brackets outside strings are counted)
 * @param file the file name for messages
 * @param where the record and field holding the text, when it is part of a larger file
 * @param maxDepth the deepest nesting accepted
 */
export function checkJsonDepth(text: string, file: string, where = '', maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip to its closing quote (the same rule the parsers use)
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 || c === 123) {
      if (++depth > maxDepth) throw tooDeep(text, i, file, where, maxDepth);
    } else if (c === 93 || c === 125) {
      depth--;
    }
  }
}

/** The error for JSON nested deeper than `maxDepth` at character `offset`. */
export function tooDeep(text: string, offset: number, file: string, where: string, maxDepth: number): Error {
  const { line, column } = lineColumn(text, offset);
  return inputError(file, where, `JSON nested more than ${maxDepth} levels deep (at line ${line} column ${column}); refusing to read it`);
}
