/**
 * The one set of command-line value parsers every `resdet` command uses: each takes the flag's
 * text and the flag's name, and throws a one-line error that names the flag and quotes the bad
 * value (`--batch-size: expected a positive integer, got "abc"`). Two kinds:
 *
 * - `parse*(text, flag)`: called in a command's action (the value may depend on other flags);
 *   throws UserError.
 * - `positiveInt(flag)` / `positiveNumber(flag)` / `nonNegativeInt(flag)`: commander option
 *   parsers (`.option('--n <n>', '...', positiveInt('--n'))`); throw commander's
 *   InvalidArgumentError, which tools/cli-errors.ts prints as the same one line.
 *
 * And one bridge: library errors name option fields (`batchSize`), the CLI names flags
 * (`--batch-size`); {@link flagName} maps one to the other for {@link OptionError.renamed}.
 */
import { InvalidArgumentError } from 'commander';
import { OptionError, UserError } from '../src/errors.ts';

const quoted = (text: string): string => JSON.stringify(text);

/** An integer `>= min` (default 0). */
export function parseIntFlag(text: string, flag: string, min = 0): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) throw new UserError(`${flag}: expected an integer >= ${min}, got ${quoted(text)}`);
  return v;
}

/** An integer >= 1 when given, else undefined (optional flags). */
export function parseOptionalCount(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : parseIntFlag(text, flag, 1);
}

/** A finite number > 0. */
export function parsePositive(text: string, flag: string): number {
  const x = Number(text);
  if (!(Number.isFinite(x) && x > 0)) throw new UserError(`${flag}: expected a positive number, got ${quoted(text)}`);
  return x;
}

/**
 * A probability or score in [0, 1] (scores are softmax probabilities, so 0 keeps every detection
 * and anything above 1 none).
 * @throws UserError `--score-threshold: expected a number from 0 to 1, got "2"`
 */
export function parseUnitInterval(text: string, flag: string): number {
  const x = Number(text);
  if (text.trim() === '' || !(Number.isFinite(x) && x >= 0 && x <= 1)) throw new UserError(`${flag}: expected a number from 0 to 1, got ${quoted(text)}`);
  return x;
}

/** `WxH` (e.g. `256x192`) as [width, height]. */
export function parseSize(text: string, flag = '--size'): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!m) throw new UserError(`${flag}: expected WIDTHxHEIGHT such as 256x192, got ${quoted(text)}`);
  return [Number(m[1]), Number(m[2])];
}

/** A detection set's annotation format, `voc` or `coco`. */
export function parseFormat(text: string, flag = '--format'): 'voc' | 'coco' {
  if (text !== 'voc' && text !== 'coco') throw new UserError(`${flag}: expected voc or coco, got ${quoted(text)}`);
  return text;
}

/** A comma-separated list, empty items dropped (`a,,b` -> [a, b]). */
export function parseList(text: string): string[] {
  return text.split(',').filter(Boolean);
}

/** A comma-separated list of integers `>= min` (default 0). */
export function parseIntList(text: string, flag: string, min = 0): number[] {
  return parseList(text).map((s) => parseIntFlag(s, flag, min));
}

/** commander parser for an integer flag > 0. */
export function positiveInt(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a positive integer, got ${quoted(text)}`);
    return n;
  };
}

/** commander parser for an integer flag >= 0. */
export function nonNegativeInt(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag}: expected a non-negative integer, got ${quoted(text)}`);
    return n;
  };
}

/** commander parser for a comma-separated list of distinct names, each one of `allowed` (kept in the given order). */
export function namesFrom<T extends string>(flag: string, allowed: readonly T[]): (text: string) => T[] {
  return (text) => {
    const names = parseList(text);
    const bad = names.find((n) => !(allowed as readonly string[]).includes(n));
    if (bad !== undefined || names.length === 0) throw new InvalidArgumentError(`${flag}: expected names from ${allowed.join(', ')}, got ${quoted(bad ?? text)}`);
    if (new Set(names).size !== names.length) throw new InvalidArgumentError(`${flag}: ${quoted(text)} names one twice`);
    return names as T[];
  };
}

/** commander parser for a finite number flag > 0. */
export function positiveNumber(flag: string): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag}: expected a positive number, got ${quoted(text)}`);
    return n;
  };
}

/**
 * The flag of a library option field: `batchSize` -> `--batch-size`. A path names its last field
 * (`overrides.evalEvery` -> `--eval-every`): the commands' flags set single fields by their name.
 */
export function flagName(field: string): string {
  const last = field.slice(field.lastIndexOf('.') + 1);
  return `--${last.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * A library error as the CLI words it: an {@link OptionError}'s option fields become flags
 * (`batchSize: expected ...` -> `--batch-size: expected ...`); any other error as it is.
 */
export function asCliError(err: unknown): unknown {
  return err instanceof OptionError ? err.renamed(flagName) : err;
}
