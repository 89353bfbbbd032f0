/**
 * One partition's event log: an append-only sequence with Event Hubs' numbering (sequence numbers
 * from 0, offsets as byte positions, non-decreasing enqueued times) and retention by age, count
 * and bytes, so memory stays bounded however long the emulator runs. Sequence numbers continue
 * after old events are dropped. The payload type is the caller's (the broker stores AMQP messages).
 */
import type { EventPosition } from "./eventPosition.ts";

export interface RetentionPolicy {
  /** Events older than this are dropped. Default: 1 hour (Microsoft's emulator keeps events 1 hour). */
  maxAgeMs: number;
  /** Default: 100 000 per partition. */
  maxEvents: number;
  /** Sum of encoded event sizes. Default: 64 MiB per partition. */
  maxBytes: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  maxAgeMs: 60 * 60 * 1000,
  maxEvents: 100_000,
  maxBytes: 64 * 1024 * 1024,
};

/** What the partition assigns to each event it accepts. */
export interface EventStamp {
  sequenceNumber: number;
  /** Byte position of the event in the partition. */
  offset: number;
  enqueuedTimeMs: number;
}

export interface StoredEvent<T> extends EventStamp {
  /** Size in bytes as received; offsets advance by it and `maxBytes` counts it. */
  size: number;
  payload: T;
}

export interface NewEvent<T> {
  size: number;
  /** Builds the stored payload once the event's stamp is known (the broker writes it into the message). */
  toPayload(stamp: EventStamp): T;
}

/** What `$management` READ and the receiver runtime metric report for a partition. */
export interface PartitionRuntimeInfo {
  /** First retained sequence number; -1 while nothing was ever enqueued. */
  beginSequenceNumber: number;
  /** -1 while nothing was ever enqueued. */
  lastSequenceNumber: number;
  /** "-1" while nothing was ever enqueued. */
  lastOffset: string;
  /** 0 (the epoch) while nothing was ever enqueued. */
  lastEnqueuedTimeMs: number;
  isEmpty: boolean;
}

export class PartitionLog<T> {
  readonly #retention: RetentionPolicy;
  readonly #clock: () => number;
  // A queue without O(n) shifts: live events are #events[#head..].
  #events: StoredEvent<T>[] = [];
  #head = 0;
  #bytes = 0;
  #nextSequenceNumber = 0;
  #nextOffset = 0;
  #last: StoredEvent<T> | undefined;
  readonly #listeners = new Set<(events: readonly StoredEvent<T>[]) => void>();

  constructor(retention: RetentionPolicy = DEFAULT_RETENTION, clock: () => number = Date.now) {
    this.#retention = retention;
    this.#clock = clock;
  }

  get size(): number {
    return this.#events.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends events in order, all with the same enqueued time, then applies retention and tells listeners. */
  append(items: ReadonlyArray<NewEvent<T>>): StoredEvent<T>[] {
    const now = Math.max(this.#clock(), this.#last?.enqueuedTimeMs ?? 0);
    const stored = items.map((item) => {
      const stamp = {
        sequenceNumber: this.#nextSequenceNumber++,
        offset: this.#nextOffset,
        enqueuedTimeMs: now,
      };
      const event: StoredEvent<T> = { ...stamp, size: item.size, payload: item.toPayload(stamp) };
      this.#nextOffset += item.size;
      this.#bytes += item.size;
      this.#events.push(event);
      return event;
    });
    if (stored.length > 0) this.#last = stored[stored.length - 1];
    this.trim();
    for (const listener of this.#listeners) listener(stored);
    return stored;
  }

  /**
   * Takes back what an earlier run kept (eventFile.ts), into an empty log: its events in order and
   * the numbering to continue from (sequence numbers and offsets go on even when none is left).
   */
  restore(events: readonly StoredEvent<T>[], next: { sequenceNumber: number; offset: number }): void {
    if (this.#nextSequenceNumber !== 0 || this.size !== 0) throw new Error("restore needs an empty log");
    this.#events = [...events];
    this.#bytes = events.reduce((total, event) => total + event.size, 0);
    this.#last = events.at(-1);
    this.#nextSequenceNumber = next.sequenceNumber;
    this.#nextOffset = next.offset;
    this.trim();
  }

  /** The sequence number and offset the next event gets. */
  get next(): { sequenceNumber: number; offset: number } {
    return { sequenceNumber: this.#nextSequenceNumber, offset: this.#nextOffset };
  }

  /** Calls `listener` with the stored events after every append; returns the unsubscribe function. */
  onAppend(listener: (events: readonly StoredEvent<T>[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops what retention no longer allows. Appends and reads call it; exposed for tests and timers. */
  trim(): void {
    const oldestAllowed = this.#clock() - this.#retention.maxAgeMs;
    while (this.size > 0) {
      const first = this.#events[this.#head] as StoredEvent<T>;
      const tooMany = this.size > this.#retention.maxEvents;
      const tooBig = this.#bytes > this.#retention.maxBytes;
      if (!tooMany && !tooBig && first.enqueuedTimeMs >= oldestAllowed) break;
      this.#bytes -= first.size;
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The first sequence number still retained (the next one to be assigned when nothing is). */
  get firstSequenceNumber(): number {
    return this.#events[this.#head]?.sequenceNumber ?? this.#nextSequenceNumber;
  }

  /** The retained events, oldest first. */
  retained(): StoredEvent<T>[] {
    this.trim();
    return this.#events.slice(this.#head);
  }

  /** Up to `max` events from `sequenceNumber` on; a position before the retained range starts at its beginning. */
  read(sequenceNumber: number, max: number): StoredEvent<T>[] {
    this.trim();
    const from = Math.max(sequenceNumber, this.firstSequenceNumber) - this.firstSequenceNumber + this.#head;
    return this.#events.slice(from, Math.min(from + Math.max(0, max), this.#events.length));
  }

  /** The sequence number a receiver starting at `position` reads first. */
  startingSequenceNumber(position: EventPosition): number {
    this.trim();
    switch (position.kind) {
      case "earliest":
        return this.firstSequenceNumber;
      case "latest":
        return this.#nextSequenceNumber;
      case "sequenceNumber": {
        const first = position.inclusive ? position.sequenceNumber : position.sequenceNumber + 1;
        return Math.min(Math.max(first, this.firstSequenceNumber), this.#nextSequenceNumber);
      }
      case "offset":
        return this.#firstWhere((event) =>
          position.inclusive ? event.offset >= position.offset : event.offset > position.offset,
        );
      case "enqueuedTime":
        return this.#firstWhere((event) =>
          position.inclusive
            ? event.enqueuedTimeMs >= position.enqueuedTimeMs
            : event.enqueuedTimeMs > position.enqueuedTimeMs,
        );
    }
  }

  /** Binary search for the first retained event satisfying a predicate that is monotonic over the log. */
  #firstWhere(matches: (event: StoredEvent<T>) => boolean): number {
    let low = this.#head;
    let high = this.#events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (matches(this.#events[middle] as StoredEvent<T>)) high = middle;
      else low = middle + 1;
    }
    return this.#events[low]?.sequenceNumber ?? this.#nextSequenceNumber;
  }

  runtimeInfo(): PartitionRuntimeInfo {
    this.trim();
    const last = this.#last;
    if (!last) {
      return {
        beginSequenceNumber: -1,
        lastSequenceNumber: -1,
        lastOffset: "-1",
        lastEnqueuedTimeMs: 0,
        isEmpty: true,
      };
    }
    return {
      beginSequenceNumber: this.firstSequenceNumber,
      lastSequenceNumber: last.sequenceNumber,
      lastOffset: String(last.offset),
      lastEnqueuedTimeMs: last.enqueuedTimeMs,
      isEmpty: this.size === 0,
    };
  }
}
