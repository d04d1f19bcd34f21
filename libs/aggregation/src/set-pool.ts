/**
 * Item sets (village codes, site ids as small integers) packed one after another in one
 * growing Int32Array: `[length, item, item, ...]`, addressed by offset. A set costs its items
 * and one word, not an object: a country's year holds about a million of them.
 */
export class SetPool {
  data = new Int32Array(1 << 16);
  length = 0;

  /** Appends a set; returns its offset. */
  add(items: ArrayLike<number>, n = items.length): number {
    this.reserve(n + 1);
    const off = this.length;
    this.data[off] = n;
    for (let i = 0; i < n; i++) this.data[off + 1 + i] = items[i]!;
    this.length += n + 1;
    return off;
  }

  size(off: number): number {
    return this.data[off]!;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
