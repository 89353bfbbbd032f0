import { FAILURE_CLASSES } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { decideOnFailure, FAILURE_POLICIES, MAX_DESCRIPTION_LENGTH } from "../../src/core/failurePolicy.ts";

const MINUTE = 60_000;

describe("failure policy", () => {
  it("has exactly one policy for every failure class", () => {
    expect(Object.keys(FAILURE_POLICIES).sort()).toEqual([...FAILURE_CLASSES].sort());
  });

  it.each([
    "InvalidMessage",
    "InvalidImageReference",
    "ImageNotFound",
    "RegistryAuthFailed",
    "QualysAuthFailed",
  ] as const)("dead-letters %s at once with the class as reason", (failureClass) => {
    const decision = decideOnFailure({ failureClass, message: "it broke" }, 1, MINUTE);
    expect(decision).toMatchObject({ kind: "deadLetter", reason: failureClass });
  });

  it("retries a report that is not ready after 1, 2, 3, 4 delay units, then dead-letters the fifth failure", () => {
    const delays = [1, 2, 3, 4].map((attempt) =>
      decideOnFailure({ failureClass: "ReportNotReady", message: "exit 40" }, attempt, MINUTE),
    );
    expect(delays).toEqual([1, 2, 3, 4].map((units) => ({ kind: "retry", delayMs: units * MINUTE })));
    const last = decideOnFailure(
      { failureClass: "ReportNotReady", message: "qscanner exited with 40" },
      5,
      MINUTE,
    );
    expect(last).toMatchObject({ kind: "deadLetter", reason: "ReportNotReady" });
    expect(last.kind === "deadLetter" && last.description).toMatch(
      /^qscanner exited with 40 \(gave up after 5 attempts\)\. Qualys did not produce/,
    );
  });

  it("backs off exponentially on rate limiting, capped", () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => {
      const decision = decideOnFailure({ failureClass: "RateLimited", message: "429" }, attempt, 1000);
      return decision.kind === "retry" ? decision.delayMs : -1;
    });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(decideOnFailure({ failureClass: "RateLimited", message: "429" }, 6, 1000).kind).toBe("deadLetter");
  });

  it("retries a timeout once, a scanner failure twice", () => {
    expect(decideOnFailure({ failureClass: "ScanTimeout", message: "t" }, 1, 1000)).toEqual({
      kind: "retry",
      delayMs: 5000,
    });
    expect(decideOnFailure({ failureClass: "ScanTimeout", message: "t" }, 2, 1000).kind).toBe("deadLetter");
    expect(decideOnFailure({ failureClass: "ScannerFailed", message: "f" }, 2, 1000).kind).toBe("retry");
    expect(decideOnFailure({ failureClass: "ScannerFailed", message: "f" }, 3, 1000).kind).toBe("deadLetter");
  });

  it("tells a human what to fix, within the description limit", () => {
    const decision = decideOnFailure(
      { failureClass: "RegistryAuthFailed", message: "x".repeat(5000) },
      1,
      MINUTE,
    );
    expect(decision.kind === "deadLetter" && decision.description.length).toBe(MAX_DESCRIPTION_LENGTH);
    const short = decideOnFailure({ failureClass: "RegistryAuthFailed", message: "refused" }, 1, MINUTE);
    expect(short.kind === "deadLetter" && short.description).toMatch(
      /^refused\. The registry refused the scanner's credentials\. Grant the scanner's managed identity AcrPull/,
    );
  });
});
