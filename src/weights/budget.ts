/**
 * The memory a weights reader may allocate, in proportion to the file it reads.
 *
 * A weights file is untrusted, and its metadata can declare arrays far larger than the bytes
 * behind them: a 328-byte PyTorch pickle with a stride-0 view of one element as 10^9 elements,
 * a 12 KB HDF5 file whose chunked dataset was resized to 2^28 elements without writing a chunk
 * (the library fills the rest: 18.7 s and 3.6 GB to read it). Readers count each float32 array
 * against a {@link ReadBudget} before allocating it, so a file costs memory and time in
 * proportion to its size and a hostile one fails at once with one line.
 */
import { cut, UserError } from '../errors.ts';

/**
 * Float32 bytes a reader may allocate per byte of the file: a float32 checkpoint needs 2 (each
 * storage decoded once, then each tensor gathered from it), an int8 one 8; more means the file
 * declares more than it holds (views shared many times, unwritten chunks), which only a hostile
 * or broken file does at scale.
 */
export const MAX_BYTES_PER_FILE_BYTE = 8;

/** Counts the float32 bytes a read allocates against {@link MAX_BYTES_PER_FILE_BYTE}. */
export class ReadBudget {
  private used = 0;

  /**
   * @param fileBytes the size of the file being read
   * @param file its name, for the error
   */
  constructor(private readonly fileBytes: number, private readonly file: string) {}

  /**
   * Takes `elements` float32 elements for `what` (a tensor or storage name), or throws a
   * UserError before they are allocated.
   */
  take(elements: number, what: string): void {
    this.used += 4 * elements;
    if (this.used > MAX_BYTES_PER_FILE_BYTE * this.fileBytes) {
      throw new UserError(`${this.file}: ${cut(what)}: the arrays read so far need ${this.used} bytes, more than ${MAX_BYTES_PER_FILE_BYTE} per byte of this ${this.fileBytes}-byte file; refusing to read it (it declares more data than it holds)`);
    }
  }
}
