import { describe, expect, it } from "vitest";
import { isCliError } from "../../src/core/cliError.ts";
import { formatAge, parseDuration } from "../../src/core/duration.ts";
import { selectionFromFlags } from "../../src/core/selectionFlags.ts";

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isCliError(error) && error.exitCode === 2) return error.message;
    throw error;
  }
  throw new Error("expected a usage error");
}

describe("durations", () => {
  it("reads units and combinations", () => {
    expect(parseDuration("90s")).toBe(90_000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("2.5d")).toBe(216_000_000);
    expect(parseDuration("1W")).toBe(604_800_000);
  });

  it("refuses bare numbers, unknown units and zero, naming the flag", () => {
    expect(usageMessage(() => parseDuration("10", "--older-than"))).toContain("--older-than");
    expect(usageMessage(() => parseDuration("3 days"))).toContain("3 days");
    expect(usageMessage(() => parseDuration("0h"))).toContain("longer than zero");
  });

  it("prints ages in the largest whole unit", () => {
    expect([formatAge(5_000), formatAge(600_000), formatAge(7_200_000), formatAge(3 * 86_400_000)]).toEqual([
      "5s",
      "10m",
      "2h",
      "3d",
    ]);
  });
});

describe("selection flags", () => {
  it("requires a selection, so the whole queue is only ever chosen with --all", () => {
    expect(usageMessage(() => selectionFromFlags({}))).toContain("--all");
    expect(selectionFromFlags({ all: true })).toEqual({});
  });

  it("refuses --all together with filters", () => {
    expect(usageMessage(() => selectionFromFlags({ all: true, reason: ["ImageNotFound"] }))).toContain(
      "--all",
    );
  });

  it("accepts repeated and comma-separated values", () => {
    expect(
      selectionFromFlags({ seq: ["1,2", "3"], reason: ["A, B"], registry: ["r.io"], olderThan: "1h" }),
    ).toEqual({
      sequenceNumbers: [1n, 2n, 3n],
      reasons: ["A", "B"],
      registries: ["r.io"],
      olderThanMs: 3_600_000,
    });
  });

  it("names a sequence number that does not parse", () => {
    expect(usageMessage(() => selectionFromFlags({ seq: ["12", "x7"] }))).toContain('"x7"');
  });
});
