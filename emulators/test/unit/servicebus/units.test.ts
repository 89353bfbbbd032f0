import rhea from "rhea";
import { describe, expect, it } from "vitest";
import { NumberHeap, SequenceIndex } from "../../../src/servicebus/collections.ts";
import { DuplicateDetector } from "../../../src/servicebus/duplicates.ts";
import { matches, matchesAnyRule } from "../../../src/servicebus/filters.ts";
import { fromAmqp, lockTokenToTag, tagToLockToken } from "../../../src/servicebus/message.ts";

describe("lock tokens", () => {
  it("travel as delivery tags in .NET GUID byte order, and back", () => {
    const token = "00112233-4455-6677-8899-aabbccddeeff";
    expect(lockTokenToTag(token).toString("hex")).toBe("33221100554477668899aabbccddeeff");
    expect(tagToLockToken(lockTokenToTag(token))).toBe(token);
  });
});

describe("duplicate detection", () => {
  it("reports a messageId seen within the window and forgets it afterwards", () => {
    const detector = new DuplicateDetector(1000);
    expect(detector.isDuplicate("a", 0)).toBe(false);
    expect(detector.isDuplicate("a", 999)).toBe(true);
    expect(detector.isDuplicate("b", 999)).toBe(false);
    expect(detector.isDuplicate("a", 1000)).toBe(false);
    expect(detector.isDuplicate(undefined, 1000)).toBe(false);
  });
});

describe("subscription rules", () => {
  const message = fromAmqp({
    body: "x",
    subject: "ScanCompleted",
    correlation_id: "c1",
    application_properties: { registry: "ghcr.io", attempt: 2 },
  } as never);

  it("match everything without rules, and by any matching rule otherwise", () => {
    expect(matchesAnyRule([], message)).toBe(true);
    expect(matchesAnyRule([{ name: "no", filter: { type: "false" } }], message)).toBe(false);
    expect(
      matchesAnyRule(
        [
          { name: "no", filter: { type: "false" } },
          { name: "yes", filter: { type: "true" } },
        ],
        message,
      ),
    ).toBe(true);
  });

  it("correlation filters require every given system field and application property", () => {
    expect(
      matches(
        {
          type: "correlation",
          system: { Label: "ScanCompleted", CorrelationId: "c1" },
          properties: { attempt: 2 },
        },
        message,
      ),
    ).toBe(true);
    expect(
      matches(
        { type: "correlation", system: { Label: "ScanCompleted" }, properties: { registry: "docker.io" } },
        message,
      ),
    ).toBe(false);
    expect(matches({ type: "correlation", system: { To: "someone" }, properties: {} }, message)).toBe(false);
  });
});

describe("received messages", () => {
  it("get a message id when the sender gave none, and keep the sender's annotations", () => {
    const incoming = fromAmqp({
      body: "x",
      message_annotations: { "x-opt-partition-key": "p", "x-opt-sequence-number": 9 },
    } as never);
    expect(incoming.system.messageId).toMatch(/^[0-9a-f]{32}$/);
    expect(incoming.annotations).toEqual({ "x-opt-partition-key": "p" });
    expect(rhea.message.decode(incoming.bare).message_id).toBe(incoming.system.messageId);
  });
});

describe("ordered collections", () => {
  it("the heap pops sequence numbers in ascending order", () => {
    const heap = new NumberHeap();
    for (const n of [5, 1, 4, 2, 3, 1]) heap.push(n);
    expect(Array.from({ length: 6 }, () => heap.pop())).toEqual([1, 1, 2, 3, 4, 5]);
    expect(heap.pop()).toBeUndefined();
  });

  it("the sequence index lists live numbers from a start, after out-of-order adds and deletions", () => {
    const live = new Set<number>();
    const index = new SequenceIndex((n) => live.has(n));
    for (const n of [1, 2, 3, 10, 7]) {
      live.add(n);
      index.add(n);
    }
    live.delete(2);
    index.deleted();
    expect(index.from(0, 10)).toEqual([1, 3, 7, 10]);
    expect(index.from(4, 2)).toEqual([7, 10]);
    for (let n = 100; n < 3200; n++) {
      live.add(n);
      index.add(n);
    }
    for (let n = 100; n < 3100; n++) {
      live.delete(n);
      index.deleted();
    }
    expect(index.from(50, 200)).toEqual(Array.from({ length: 100 }, (_, i) => 3100 + i));
  });
});
