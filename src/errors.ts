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

/** Quotes a value for an error message, cut to a readable length. */
export function quote(value: unknown, max = 80): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max)}...` : s;
}
