/**
 * Malformed input (issue 15): every malformed record becomes a counted skip with a reason, never an
 * exception, and never holds back or sinks the good records around it.
 */
import { describe, expect, it } from "vitest";
import { parseEventBody } from "../../src/core/parseBody.ts";
import { samples } from "../support/fixtures.ts";

describe("CloudEvents specversion", () => {
  const cloudEvent = (specversion: unknown) => ({ ...samples.cloudEvent(), specversion });

  it.each([
    ["0.3", "specversion 0.3"],
    ["1.0.1", "specversion 1.0.1"],
    ["1", "specversion 1,"],
    [1, "specversion a number"],
    [null, "specversion null"],
  ])("skips a CloudEvent with specversion %j as unsupported-specversion", (version, detail) => {
    const [item] = parseEventBody(JSON.stringify(cloudEvent(version)));
    expect(item).toMatchObject({ ok: false, reason: "unsupported-specversion" });
    expect(item?.ok === false && item.detail).toContain(detail);
  });

  it("skips only the event with another version in an array, and reads 1.0", () => {
    const items = parseEventBody(JSON.stringify([cloudEvent("0.3"), cloudEvent("1.0")]));
    expect(items.map((item) => (item.ok ? "read" : item.reason))).toEqual([
      "unsupported-specversion",
      "read",
    ]);
  });
});
