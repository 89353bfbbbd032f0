/** Small ordered collections the message store needs (Node has no sorted containers). */

/** Binary min-heap of numbers (sequence numbers of available messages). */
export class NumberHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    items.push(value);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[index] = items[parent] as number;
      index = parent;
    }
    items[index] = value;
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let index = 0;
    for (;;) {
      const left = index * 2 + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[index] = items[child] as number;
      index = child;
    }
    items[index] = last;
    return top;
  }

  clear(): void {
    this.#items.length = 0;
  }
}

/**
 * Sequence numbers in ascending order for peeking from a given number. Appends are almost always
 * in order (new messages); deletions are lazy and compacted once they outnumber live entries.
 */
export class SequenceIndex {
  #items: number[] = [];
  #deleted = 0;
  readonly #live: (sequenceNumber: number) => boolean;

  constructor(live: (sequenceNumber: number) => boolean) {
    this.#live = live;
  }

  add(sequenceNumber: number): void {
    const items = this.#items;
    if (items.length === 0 || (items[items.length - 1] as number) < sequenceNumber) {
      items.push(sequenceNumber);
    } else {
      items.splice(this.#lowerBound(sequenceNumber), 0, sequenceNumber);
    }
  }

  /** Call after the sequence number stopped being live. */
  deleted(): void {
    this.#deleted += 1;
    if (this.#deleted > 1024 && this.#deleted * 2 > this.#items.length) {
      this.#items = this.#items.filter(this.#live);
      this.#deleted = 0;
    }
  }

  /** Live sequence numbers from `first` on, ascending, at most `count`. */
  from(first: number, count: number): number[] {
    const result: number[] = [];
    const items = this.#items;
    for (let index = this.#lowerBound(first); index < items.length && result.length < count; index++) {
      const sequenceNumber = items[index] as number;
      if (this.#live(sequenceNumber) && result[result.length - 1] !== sequenceNumber)
        result.push(sequenceNumber);
    }
    return result;
  }

  #lowerBound(value: number): number {
    let low = 0;
    let high = this.#items.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((this.#items[middle] as number) < value) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
