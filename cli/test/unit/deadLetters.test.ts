import { describe, expect, it } from "vitest";
import {
  groupByReason,
  imageOf,
  parseSequenceNumber,
  registryOf,
  selectDeadLetters,
} from "../../src/core/deadLetters.ts";
import { deadLetterDetailJson, deadLetterListingJson } from "../../src/core/deadLetterViews.ts";
import { deadLetter } from "../support/fakeDeadLetterQueue.ts";

const now = new Date("2026-11-26T12:00:00Z");
const queue = [
  deadLetter(1, { reason: "ImageNotFound", enqueuedAt: new Date("2026-11-26T11:00:00Z") }),
  deadLetter(2, {
    reason: "RegistryAuthFailed",
    applicationProperties: { registry: "myacr.azurecr.io", imageRef: "myacr.azurecr.io/app:1" },
    enqueuedAt: new Date("2026-11-20T00:00:00Z"),
  }),
  deadLetter(3, { reason: "ImageNotFound", enqueuedAt: new Date("2026-11-19T00:00:00Z") }),
  deadLetter(4, { reason: undefined, applicationProperties: {}, body: "not json", enqueuedAt: undefined }),
];

describe("selecting dead letters", () => {
  it("matches reasons without regard to case", () => {
    const picked = selectDeadLetters(queue, { reasons: ["imagenotfound"] }, now);
    expect(picked.map((item) => item.sequenceNumber)).toEqual([1n, 3n]);
  });

  it("matches the registry from the application property, else from the body", () => {
    expect(
      selectDeadLetters(queue, { registries: ["MYACR.azurecr.io"] }, now).map((d) => d.sequenceNumber),
    ).toEqual([2n]);
    const fromBody = deadLetter(5, { applicationProperties: {} });
    expect(registryOf(fromBody)).toBe("docker.io");
    expect(imageOf(fromBody)).toBe("docker.io/library/app5:1");
  });

  it("selects by age of the enqueue time (and never one whose time is unknown)", () => {
    const picked = selectDeadLetters(queue, { olderThanMs: 2 * 86_400_000 }, now);
    expect(picked.map((item) => item.sequenceNumber)).toEqual([2n, 3n]);
  });

  it("combines criteria with AND", () => {
    const picked = selectDeadLetters(queue, { reasons: ["ImageNotFound"], olderThanMs: 3_600_000 * 24 }, now);
    expect(picked.map((item) => item.sequenceNumber)).toEqual([3n]);
  });

  it("selects by sequence number", () => {
    expect(selectDeadLetters(queue, { sequenceNumbers: [4n, 2n] }, now).map((d) => d.sequenceNumber)).toEqual(
      [2n, 4n],
    );
  });

  it("calls a dead letter without a reason (none), so it can be selected", () => {
    expect(selectDeadLetters(queue, { reasons: ["(none)"] }, now).map((d) => d.sequenceNumber)).toEqual([4n]);
  });
});

describe("grouping by reason", () => {
  it("puts the largest group first, with its oldest and newest times", () => {
    const groups = groupByReason(queue);
    expect(groups.map((group) => [group.reason, group.count])).toEqual([
      ["ImageNotFound", 2],
      ["(none)", 1],
      ["RegistryAuthFailed", 1],
    ]);
    expect(groups[0]?.oldest?.toISOString()).toBe("2026-11-19T00:00:00.000Z");
    expect(groups[0]?.newest?.toISOString()).toBe("2026-11-26T11:00:00.000Z");
  });
});

describe("sequence numbers", () => {
  it("parses 64-bit values exactly and refuses anything else", () => {
    expect(parseSequenceNumber("9223372036854775807")).toBe(9_223_372_036_854_775_807n);
    expect(() => parseSequenceNumber("9223372036854775808")).toThrow();
    expect(() => parseSequenceNumber("-1")).toThrow();
    expect(() => parseSequenceNumber("12a")).toThrow();
  });
});

describe("dead letters as JSON", () => {
  it("summarises the listing with reasons, rows up to the limit and 64-bit sequence numbers as strings", () => {
    const json = deadLetterListingJson({
      path: "scan-requests/$DeadLetterQueue",
      peeked: 4,
      peekTruncated: false,
      matched: queue,
      limit: 2,
    });
    expect(json.matched).toBe(4);
    expect(json.truncated).toBe(true);
    expect(json.items).toHaveLength(2);
    expect(json.items[1]).toEqual({
      sequenceNumber: "2",
      messageId: "original-2",
      enqueuedAt: "2026-11-20T00:00:00.000Z",
      deliveryCount: 3,
      reason: "RegistryAuthFailed",
      description: "manifest unknown",
      image: "myacr.azurecr.io/app:1",
      registry: "myacr.azurecr.io",
    });
    expect(json.byReason[0]).toMatchObject({ reason: "ImageNotFound", count: 2 });
  });

  it("shows byte bodies as text when they are UTF-8 and as base64 otherwise", () => {
    const text = deadLetterDetailJson(deadLetter(1, { body: new TextEncoder().encode("plain text") }));
    expect([text.bodyEncoding, text.body]).toEqual(["text", "plain text"]);
    const binary = deadLetterDetailJson(deadLetter(1, { body: new Uint8Array([0xff, 0xfe]) }));
    expect([binary.bodyEncoding, binary.body]).toEqual(["base64", "//4="]);
  });
});
