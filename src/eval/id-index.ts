/**
 * Id -> index lookup for COCO ids (images, categories). A dense Int32Array table when the ids
 * are small non-negative integers (COCO's image ids stay below 600,000), a Map otherwise:
 * 500,000 detection lookups then cost a few milliseconds instead of a hash probe each.
 */
export class IdIndex {
  private readonly table: Int32Array | undefined;
  private readonly map: Map<number, number> | undefined;

  /** @param ids [n] distinct ids; index i is returned for ids[i] */
  constructor(ids: readonly number[]) {
    let max = -1;
    let dense = true;
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0) dense = false;
      else if (id > max) max = id;
    }
    if (dense && max < Math.max(1 << 20, 8 * ids.length)) {
      this.table = new Int32Array(max + 1).fill(-1);
      ids.forEach((id, i) => (this.table![id] = i));
    } else {
      this.map = new Map(ids.map((id, i) => [id, i]));
    }
  }

  /** The index of `id`, or -1 when it is not one of the ids. */
  get(id: number): number {
    if (this.table) {
      return id >= 0 && id < this.table.length && Number.isInteger(id) ? this.table[id] : -1;
    }
    return this.map!.get(id) ?? -1;
  }
}
