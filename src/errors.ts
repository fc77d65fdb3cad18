/**
 * Errors that a user can fix: a bad file, a missing field, a bad flag. The CLI prints their
 * message alone (no stack trace) and exits non-zero; anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Names an option in a message: its field (the library's word) or a flag (the CLI's). */
export type OptionNamer = (field: string) => string;

/**
 * A UserError about options a caller passed. Its message names each option by its field, as
 * the library's options objects spell it (`batchSize: expected a positive integer, got 0`);
 * {@link OptionError.renamed} words the same message with other names, as the CLI does with
 * its flags (`--batch-size: expected ...`, tools/flags.ts).
 * @param render the message, naming every option through `name`
 */
export class OptionError extends UserError {
  constructor(private readonly render: (name: OptionNamer) => string) {
    super(render((field) => field));
  }

  /** The same error with every option named by `name`; the stack stays this one's. */
  renamed(name: OptionNamer): UserError {
    const e = new UserError(this.render(name));
    if (this.stack) e.stack = this.stack.replace(this.message, e.message);
    return e;
  }
}

/**
 * Builds a UserError whose message names where the bad value was found, e.g.
 * `gt.json: annotations[12].bbox: expected 4 finite numbers, got [1,2,3]`.
 * @param file the file (or other source) the value came from
 * @param where the record and field, e.g. `annotations[12].bbox`
 * @param what what was expected and what was found
 */
export function inputError(file: string, where: string, what: string): UserError {
  return new UserError(`${file}: ${where ? `${where}: ` : ''}${what}`);
}

/**
 * Quotes a value for an error message, cut to a readable length: what `JSON.stringify` prints,
 * up to `max` characters then `...`, with digits for bigints, `{key: value}` for Maps and
 * `[...]` for typed arrays. The text is built iteratively and stops at `max`, so a value from an
 * untrusted file (a list of a million items, nesting 300,000 deep, a cycle) costs about the
 * characters shown, where `JSON.stringify` would recurse into a stack overflow or build
 * megabytes only to cut them.
 */
export function quote(value: unknown, max = 80): string {
  const out = new BoundedText(max);
  const stack: Frame[] = [];
  const emit = (v: unknown, key: string, top: boolean): void => {
    if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON(k: string): unknown }).toJSON(key);
    }
    if (v === null) return out.add('null');
    switch (typeof v) {
      case 'string':
        // Past max characters the text is cut anyway: never escape more of it than can show.
        return out.add(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
      case 'number':
        return out.add(Number.isFinite(v) ? String(v) : 'null');
      case 'boolean':
      case 'bigint':
        return out.add(String(v));
      case 'object':
        break;
      default: // undefined, functions, symbols: JSON prints them as null inside arrays
        return out.add(top ? String(v) : 'null');
    }
    out.add(Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)) ? '[' : '{');
    stack.push(frameOf(v as object));
  };
  emit(value, '', true);
  while (stack.length && !out.full) {
    const f = stack[stack.length - 1];
    const e = f.next();
    if (!e) {
      out.add(f.close);
      stack.pop();
      continue;
    }
    if (f.count++ > 0) out.add(',');
    out.add(e.prefix);
    emit(e.value, e.key, false);
  }
  return out.text();
}

/** One open container while quoting: yields its entries one at a time. */
interface Frame {
  close: string;
  count: number;
  next(): { prefix: string; key: string; value: unknown } | undefined;
}

function frameOf(v: object): Frame {
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const a = v as ArrayLike<unknown>;
    let i = 0;
    return { close: ']', count: 0, next: () => (i < a.length ? { prefix: '', key: String(i), value: a[i++] } : undefined) };
  }
  if (v instanceof Map) {
    const it = v.entries();
    return {
      close: '}',
      count: 0,
      next: () => {
        const e = it.next();
        return e.done ? undefined : { prefix: `${quote(e.value[0])}:`, key: String(e.value[0]), value: e.value[1] };
      },
    };
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  let i = 0;
  return {
    close: '}',
    count: 0,
    next: () => {
      // JSON leaves out entries whose value it cannot print.
      while (i < keys.length) {
        const k = keys[i++];
        const t = typeof obj[k];
        if (t !== 'undefined' && t !== 'function' && t !== 'symbol') return { prefix: `${JSON.stringify(k)}:`, key: k, value: obj[k] };
      }
      return undefined;
    },
  };
}

/** Text that stops growing once it is longer than `max`; `text()` cuts it there with `...`. */
class BoundedText {
  private parts: string[] = [];
  private length = 0;
  constructor(private readonly max: number) {}
  get full(): boolean {
    return this.length > this.max;
  }
  add(s: string): void {
    if (this.full) return;
    this.parts.push(s);
    this.length += s.length;
  }
  text(): string {
    const s = this.parts.join('');
    return s.length > this.max ? `${s.slice(0, this.max)}...` : s;
  }
}

/** A string from a file, for a message: at most `max` characters, then `...`. */
export function cut(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Longest error message the CLI prints before cutting it (a long path plus a quoted value fit). */
export const MAX_MESSAGE = 1000;

/**
 * An error message as one line of readable length: line breaks (sharp's and libvips's messages
 * have several) become `; ` (a space after punctuation or before a parenthesis), and a message longer than `max` is cut
 * with a note of how much was left out, so a value echoed from a hostile file cannot flood the
 * terminal.
 */
export function oneLine(message: string, max = MAX_MESSAGE): string {
  const lines = message.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  // `; ` between lines, a plain space after a line that ends in punctuation already or before a
  // parenthesis (commander's "unknown command 'x'\n(Did you mean y?)")
  const s = lines.reduce((acc, l) => (acc === '' ? l : `${acc}${/[:;,.]$/.test(acc) || l.startsWith('(') ? ' ' : '; '}${l}`), '');
  return s.length > max ? `${s.slice(0, max)}... (${s.length - max} more characters)` : s;
}
