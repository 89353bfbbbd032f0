// A dead-letter description is redacted before it is shortened: a secret cut at the edge would no
// longer be recognised.
import { createLogger } from "@qcs/shared/runtime";
import { describe, expect, it } from "vitest";
import { ContentRejectedError, createScanCompletedHandler } from "../../src/core/handleScanCompleted.ts";
import type { RecorderMetrics } from "../../src/core/ports.ts";
import { InMemoryScanRecords } from "../support/inMemoryScanRecords.ts";
import { completedScan, messageOf } from "../support/scans.ts";

const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/** Storage refuses the row written and quotes a token in its answer. */
class RejectingStore extends InMemoryScanRecords {
  override async createMetadata(): Promise<never> {
    // The description keeps 997 characters; the token starts at 980.
    throw new ContentRejectedError(`${"r".repeat(979)} ${JWT} rejected`);
  }
}

const metrics: RecorderMetrics = { resultHandled() {}, storageRetried() {}, deadLettered() {} };

describe("a dead-lettered result's description", () => {
  it("holds no fragment of a token that straddles the cut", async () => {
    const handle = createScanCompletedHandler({
      store: new RejectingStore(),
      metrics,
      logger: createLogger({ name: "test", level: "silent" }),
    });
    const settlement = await handle(messageOf(completedScan()), new AbortController().signal);
    expect(settlement.action).toBe("deadLetter");
    const description = settlement.action === "deadLetter" ? settlement.description : "";
    expect(description).toContain("[REDACTED]");
    expect(description).not.toContain(JWT.slice(0, 12));
  });
});
