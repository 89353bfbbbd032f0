import { describe, expect, it } from "vitest";
import { AmqpError } from "../../../src/amqp/errors.ts";
import { parseSelectorFilter } from "../../../src/eventhubs/eventPosition.ts";

describe("selector filter (event position)", () => {
  it.each([
    ["amqp.annotation.x-opt-offset > '-1'", { kind: "earliest" }],
    ["amqp.annotation.x-opt-offset >= '-1'", { kind: "earliest" }],
    ["amqp.annotation.x-opt-offset > '@latest'", { kind: "latest" }],
    ["amqp.annotation.x-opt-offset > '1024'", { kind: "offset", offset: 1024, inclusive: false }],
    ["amqp.annotation.x-opt-offset >= '1024'", { kind: "offset", offset: 1024, inclusive: true }],
    [
      "amqp.annotation.x-opt-sequence-number > '41'",
      { kind: "sequenceNumber", sequenceNumber: 41, inclusive: false },
    ],
    [
      "amqp.annotation.x-opt-sequence-number >= '0'",
      { kind: "sequenceNumber", sequenceNumber: 0, inclusive: true },
    ],
    [
      "amqp.annotation.x-opt-enqueued-time > '1700000000000'",
      { kind: "enqueuedTime", enqueuedTimeMs: 1_700_000_000_000, inclusive: false },
    ],
    [
      "  AMQP.ANNOTATION.X-OPT-ENQUEUED-TIME>='5'  ",
      { kind: "enqueuedTime", enqueuedTimeMs: 5, inclusive: true },
    ],
  ])("%s", (expression, expected) => {
    expect(parseSelectorFilter(expression)).toEqual(expected);
  });

  it("starts at the beginning of the partition when the link has no filter", () => {
    expect(parseSelectorFilter(undefined)).toEqual({ kind: "earliest" });
  });

  it.each([
    "amqp.annotation.x-opt-offset < '5'",
    "amqp.annotation.x-opt-partition-key > 'a'",
    "amqp.annotation.x-opt-offset > 'abc'",
    "amqp.annotation.x-opt-sequence-number > '1.5'",
    "amqp.annotation.x-opt-enqueued-time > '-3'",
    "",
  ])("rejects %j with com.microsoft:argument-error", (expression) => {
    const error = (() => {
      try {
        parseSelectorFilter(expression);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AmqpError);
    expect(error).toMatchObject({ condition: "com.microsoft:argument-error", statusCode: 400 });
  });
});
