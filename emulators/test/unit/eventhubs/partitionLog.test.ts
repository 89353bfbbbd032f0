import { describe, expect, it } from "vitest";
import { type NewEvent, PartitionLog, type RetentionPolicy } from "../../../src/eventhubs/partitionLog.ts";

const events = (...sizes: number[]): NewEvent<string>[] =>
  sizes.map((size, index) => ({ size, toPayload: (stamp) => `e${index}@${stamp.sequenceNumber}` }));

function logAt(time: { now: number }, retention: Partial<RetentionPolicy> = {}) {
  return new PartitionLog<string>(
    { maxAgeMs: 60_000, maxEvents: 1000, maxBytes: 1_000_000, ...retention },
    () => time.now,
  );
}

describe("partition log", () => {
  it("numbers events from 0, advances offsets by size and stamps one enqueued time per append", () => {
    const time = { now: 1000 };
    const log = logAt(time);
    const first = log.append(events(10, 20));
    time.now = 2000;
    const second = log.append(events(5));
    expect(
      [...first, ...second].map(({ sequenceNumber, offset, enqueuedTimeMs, payload }) => ({
        sequenceNumber,
        offset,
        enqueuedTimeMs,
        payload,
      })),
    ).toEqual([
      { sequenceNumber: 0, offset: 0, enqueuedTimeMs: 1000, payload: "e0@0" },
      { sequenceNumber: 1, offset: 10, enqueuedTimeMs: 1000, payload: "e1@1" },
      { sequenceNumber: 2, offset: 30, enqueuedTimeMs: 2000, payload: "e0@2" },
    ]);
  });

  it("never lets enqueued times go backwards when the clock does", () => {
    const time = { now: 5000 };
    const log = logAt(time);
    log.append(events(1));
    time.now = 4000;
    expect(log.append(events(1))[0]?.enqueuedTimeMs).toBe(5000);
  });

  it("reports an empty partition the way Event Hubs does, and the last event once there is one", () => {
    const time = { now: 1000 };
    const log = logAt(time);
    expect(log.runtimeInfo()).toEqual({
      beginSequenceNumber: -1,
      lastSequenceNumber: -1,
      lastOffset: "-1",
      lastEnqueuedTimeMs: 0,
      isEmpty: true,
    });
    log.append(events(7, 9));
    expect(log.runtimeInfo()).toEqual({
      beginSequenceNumber: 0,
      lastSequenceNumber: 1,
      lastOffset: "7",
      lastEnqueuedTimeMs: 1000,
      isEmpty: false,
    });
  });

  it("drops events older than the retention age and keeps numbering after them", () => {
    const time = { now: 0 };
    const log = logAt(time, { maxAgeMs: 1000 });
    log.append(events(1, 1));
    time.now = 600;
    log.append(events(1));
    time.now = 1200;
    expect(log.read(0, 10).map((event) => event.sequenceNumber)).toEqual([2]);
    time.now = 1700;
    expect(log.runtimeInfo()).toMatchObject({ beginSequenceNumber: 3, lastSequenceNumber: 2, isEmpty: true });
    expect(log.append(events(1))[0]?.sequenceNumber).toBe(3);
  });

  it("bounds memory by event count and by bytes", () => {
    const time = { now: 0 };
    const byCount = logAt(time, { maxEvents: 3 });
    for (let i = 0; i < 10; i += 1) byCount.append(events(100));
    expect(byCount.size).toBe(3);
    expect(byCount.firstSequenceNumber).toBe(7);

    const byBytes = logAt(time, { maxBytes: 250 });
    for (let i = 0; i < 10; i += 1) byBytes.append(events(100));
    expect(byBytes.size).toBe(2);
    expect(byBytes.bytes).toBe(200);
  });

  it("stays bounded over many appends (the backing array is compacted)", () => {
    const time = { now: 0 };
    const log = logAt(time, { maxEvents: 10 });
    for (let i = 0; i < 50_000; i += 1) log.append(events(1));
    expect(log.size).toBe(10);
    expect(log.read(0, 100).map((event) => event.sequenceNumber)).toEqual(
      Array.from({ length: 10 }, (_, i) => 49_990 + i),
    );
  });

  it("reads from a sequence number, at most the number asked for", () => {
    const log = logAt({ now: 0 });
    log.append(events(1, 1, 1, 1, 1));
    expect(log.read(1, 2).map((event) => event.sequenceNumber)).toEqual([1, 2]);
    expect(log.read(4, 10).map((event) => event.sequenceNumber)).toEqual([4]);
    expect(log.read(5, 10)).toEqual([]);
    expect(log.read(0, 0)).toEqual([]);
  });

  describe("starting positions", () => {
    const time = { now: 100 };
    const log = logAt(time);
    log.append(events(10, 10)); // seq 0,1 offsets 0,10 at t=100
    time.now = 200;
    log.append(events(10)); // seq 2 offset 20 at t=200

    it.each([
      ["earliest", { kind: "earliest" } as const, 0],
      ["latest", { kind: "latest" } as const, 3],
      ["offset, exclusive", { kind: "offset", offset: 10, inclusive: false } as const, 2],
      ["offset, inclusive", { kind: "offset", offset: 10, inclusive: true } as const, 1],
      ["an offset between events", { kind: "offset", offset: 5, inclusive: false } as const, 1],
      ["an offset past the end", { kind: "offset", offset: 999, inclusive: true } as const, 3],
      [
        "sequence number, exclusive",
        { kind: "sequenceNumber", sequenceNumber: 1, inclusive: false } as const,
        2,
      ],
      [
        "sequence number, inclusive",
        { kind: "sequenceNumber", sequenceNumber: 1, inclusive: true } as const,
        1,
      ],
      [
        "sequence number -1, exclusive",
        { kind: "sequenceNumber", sequenceNumber: -1, inclusive: false } as const,
        0,
      ],
      [
        "a sequence number past the end",
        { kind: "sequenceNumber", sequenceNumber: 50, inclusive: true } as const,
        3,
      ],
      [
        "enqueued time, exclusive",
        { kind: "enqueuedTime", enqueuedTimeMs: 100, inclusive: false } as const,
        2,
      ],
      [
        "enqueued time, inclusive",
        { kind: "enqueuedTime", enqueuedTimeMs: 100, inclusive: true } as const,
        0,
      ],
      [
        "an enqueued time before the first",
        { kind: "enqueuedTime", enqueuedTimeMs: 0, inclusive: false } as const,
        0,
      ],
    ])("%s", (_, position, expected) => {
      expect(log.startingSequenceNumber(position)).toBe(expected);
    });

    it("starts at the first retained event when the position was dropped by retention", () => {
      const trimmed = logAt({ now: 0 }, { maxEvents: 2 });
      trimmed.append(events(1, 1, 1, 1));
      expect(
        trimmed.startingSequenceNumber({ kind: "sequenceNumber", sequenceNumber: 0, inclusive: true }),
      ).toBe(2);
      expect(trimmed.startingSequenceNumber({ kind: "earliest" })).toBe(2);
    });
  });

  it("tells listeners after each append until they unsubscribe", () => {
    const log = logAt({ now: 0 });
    let calls = 0;
    const unsubscribe = log.onAppend(() => {
      calls += 1;
    });
    log.append(events(1));
    unsubscribe();
    log.append(events(1));
    expect(calls).toBe(1);
  });
});
