import { describe, expect, it } from "vitest";
import { isCliError } from "../../src/core/cliError.ts";
import { manualScanRequest } from "../../src/core/rescan.ts";
import { renderOutcome } from "../../src/core/settlementView.ts";
import { renderTable } from "../../src/core/table.ts";
import { deadLetter } from "../support/fakeDeadLetterQueue.ts";

describe("tables", () => {
  it("aligns columns, right-aligns numbers and cuts long cells", () => {
    const table = renderTable(
      [{ header: "name" }, { header: "count", align: "right" }, { header: "note", maxWidth: 6 }],
      [
        ["a", "1", "short"],
        ["longer", "100", "much too long\nto show"],
      ],
    );
    expect(table.split("\n")).toEqual([
      "NAME    COUNT  NOTE",
      "a           1  short",
      "longer    100  much …",
    ]);
  });
});

describe("manual scan requests", () => {
  const base = {
    requestId: "5f0c3c9e-8a53-4a5e-9c1e-1f7a4f4f2a10",
    requestedAt: new Date("2026-11-26T12:00:00Z"),
  };

  it("canonicalises the reference and names the operator as the source", () => {
    const message = manualScanRequest({ ...base, image: "nginx:1.27", force: false, requestedBy: "ops" });
    expect(message.body.image).toEqual({
      ref: "docker.io/library/nginx:1.27",
      registry: "docker.io",
      repository: "library/nginx",
      tag: "1.27",
    });
    expect(message.body.sources).toEqual([{ kind: "manual", requestedBy: "ops" }]);
    expect(message.applicationProperties.imageRef).toBe("docker.io/library/nginx:1.27");
  });

  it("gives a forced request its own messageId, so duplicate detection does not drop it", () => {
    const plain = manualScanRequest({ ...base, image: "nginx:1.27", force: false });
    const forced = manualScanRequest({ ...base, image: "nginx:1.27", force: true });
    expect(forced.body.force).toBe(true);
    expect(forced.messageId).not.toBe(plain.messageId);
  });

  it("refuses what is not an image reference as a usage error", () => {
    try {
      manualScanRequest({ ...base, image: "--privileged", force: false });
      throw new Error("expected an error");
    } catch (error) {
      expect(isCliError(error) && error.exitCode).toBe(2);
    }
  });
});

describe("the outcome of a resubmission", () => {
  it("names what was not done and why it is safe to run again", () => {
    const text = renderOutcome(
      {
        operation: "resubmit",
        source: "q/$DeadLetterQueue",
        target: "q",
        selected: [1, 2, 3, 4].map((n) => deadLetter(n)),
      },
      { settled: [1n], notRemoved: [2n], notFound: [3n], notAttempted: [4n] },
      "cannot reach Service Bus",
    );
    expect(text).toContain("resubmitted 1 of 4; stopped: cannot reach Service Bus");
    expect(text).toContain("1 not attempted, still dead-lettered: 4");
    expect(text).toContain("copied but still dead-lettered (resubmitting them again is safe");
    expect(text).toContain("1 no longer there");
  });
});
