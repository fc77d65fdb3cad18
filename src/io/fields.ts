/**
 * Field checks for records read from untrusted files. Each returns the typed value or throws
 * a UserError `<file>: <where>.<key>: expected ..., got <value>` (see src/errors.ts).
 */
import { inputError, quote } from '../errors.ts';

/**
 * A value as an error message shows it: numbers with String() so NaN and Infinity read as
 * themselves (JSON.stringify would print null), a missing field as `nothing (missing field)`.
 */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing (missing field)';
  return typeof v === 'number' ? String(v) : quote(v);
}

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** Checks that `value` is a JSON object; `where` names it, e.g. `annotations[3]`. */
export function expectObject(value: unknown, file: string, where: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw inputError(file, where, `expected an object, got ${quote(value)}`);
  }
  return value as JsonObject;
}

/** Checks that `obj[key]` is an array. */
export function expectArray(obj: JsonObject, key: string, file: string, where: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw inputError(file, join(where, key), `expected an array, got ${show(v)}`);
  return v;
}

/** Checks that `obj[key]` is an integer that a double holds exactly (COCO ids). */
export function expectId(obj: JsonObject, key: string, file: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw inputError(file, join(where, key), `expected an integer id, got ${show(v)}`);
  }
  return v;
}

/** Checks that `obj[key]` is a finite number, optionally at least `min`. */
export function expectNumber(obj: JsonObject, key: string, file: string, where: string, min = -Infinity): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    const what = min === -Infinity ? 'a finite number' : `a finite number >= ${min}`;
    throw inputError(file, join(where, key), `expected ${what}, got ${show(v)}`);
  }
  return v;
}

/** Checks that `obj[key]` is a string. */
export function expectString(obj: JsonObject, key: string, file: string, where: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw inputError(file, join(where, key), `expected a string, got ${show(v)}`);
  return v;
}

/** `where.key`, or `key` alone when `where` is empty. */
export function join(where: string, key: string): string {
  return where ? `${where}.${key}` : key;
}
