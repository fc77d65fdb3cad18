/**
 * Reading JSON files with user-facing errors: a missing file or malformed JSON becomes a
 * UserError naming the file and the line/column of the fault, never a stack trace.
 *
 * Nesting is limited to {@link MAX_JSON_DEPTH} levels before any parser runs: V8's JSON.parse
 * accepts a document 300,000 `[` deep (a 600 KB file), but then every recursive reader of the
 * value (a validator, an error message quoting it, the lenient parser below) overflows the stack.
 */
import fs from 'node:fs';
import { inputError } from '../errors.ts';
import { checkJsonDepth, lineColumn, MAX_JSON_DEPTH, tooDeep } from './json-depth.ts';

export { checkJsonDepth, lineColumn, MAX_JSON_DEPTH };

/** Reads a whole file, turning a missing or unreadable file into a UserError. */
export function readFileForUser(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw inputError(file, '', `cannot read the file (${e.code ?? e.message})`);
  }
}

/**
 * Parses JSON text. Nesting deeper than {@link MAX_JSON_DEPTH} is refused first. The fast path
 * is JSON.parse; when it fails, a small recursive-descent parser runs instead. It accepts the
 * bare `NaN`, `Infinity` and `-Infinity` tokens that Python's json module writes (so validators
 * can report "score: expected a finite number, got NaN" rather than a syntax error), and
 * otherwise reports the first fault by line and column.
 * @param text the file's content
 * @param file the file name for messages
 */
export function parseJsonText(text: string, file: string): unknown {
  checkJsonDepth(text, file);
  try {
    return JSON.parse(text);
  } catch {
    return new LenientJsonParser(text, file).parseDocument();
  }
}

/** JSON plus Python's non-finite number tokens; errors name the line and column. */
class LenientJsonParser {
  private pos = 0;
  /** arrays and objects open around `pos`; checkJsonDepth bounds it, this guards the recursion */
  private depth = 0;
  constructor(private readonly text: string, private readonly file: string) {}

  parseDocument(): unknown {
    const v = this.value();
    this.ws();
    if (this.pos < this.text.length) this.fail('the end of the file');
    return v;
  }

  private fail(expected: string): never {
    const { line, column } = lineColumn(this.text, this.pos);
    const got = this.pos >= this.text.length ? 'the end of the file' : JSON.stringify(this.text.slice(this.pos, this.pos + 12));
    throw inputError(this.file, '', `malformed JSON at line ${line} column ${column}: expected ${expected}, got ${got}`);
  }

  private ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
      this.pos++;
    }
  }

  private value(): unknown {
    this.ws();
    const t = this.text;
    const c = t[this.pos];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of LITERALS) {
      if (t.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(t);
    if (!m) this.fail('a JSON value');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private enter(): void {
    if (++this.depth > MAX_JSON_DEPTH) throw tooDeep(this.text, this.pos, this.file, '', MAX_JSON_DEPTH);
    this.pos++;
  }

  private object(): Record<string, unknown> {
    this.enter();
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('a property name in double quotes');
      const key = this.string();
      this.ws();
      if (this.text[this.pos] !== ':') this.fail("':'");
      this.pos++;
      out[key] = this.value();
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') {
        this.depth--;
        return out;
      }
      if (c !== ',') {
        this.pos--;
        this.fail("',' or '}'");
      }
    }
  }

  private array(): unknown[] {
    this.enter();
    const out: unknown[] = [];
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') {
        this.depth--;
        return out;
      }
      if (c !== ',') {
        this.pos--;
        this.fail("',' or ']'");
      }
    }
  }

  private string(): string {
    STRING.lastIndex = this.pos;
    const m = STRING.exec(this.text);
    if (!m) this.fail('a valid JSON string');
    this.pos += m[0].length;
    return JSON.parse(m[0]) as string;
  }
}

// Sticky (`y`) patterns match at lastIndex without copying the rest of the text.
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const LITERALS: Array<[string, unknown]> = [
  ['true', true], ['false', false], ['null', null],
  ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
];

/** Reads and parses a JSON file; see {@link parseJsonText}. */
export function readJsonFile(file: string): unknown {
  return parseJsonText(readFileForUser(file).toString('utf8'), file);
}
