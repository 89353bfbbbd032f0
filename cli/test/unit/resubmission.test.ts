import { describe, expect, it } from "vitest";
import { resubmissionCopy, resubmissionMessageId } from "../../src/core/resubmission.ts";
import { deadLetter } from "../support/fakeDeadLetterQueue.ts";

describe("the copy of a dead letter", () => {
  it("gets a messageId unlike the original's, so duplicate detection does not drop it", () => {
    const copy = resubmissionCopy(deadLetter(7));
    expect(copy.messageId).not.toBe("original-7");
    expect(copy.messageId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("gets the same messageId every time the same dead letter is resubmitted", () => {
    expect(resubmissionCopy(deadLetter(7)).messageId).toBe(resubmissionCopy(deadLetter(7)).messageId);
  });

  it("gets different messageIds for dead letters of the same original message", () => {
    expect(resubmissionMessageId("same", 1n)).not.toBe(resubmissionMessageId("same", 2n));
  });

  it("keeps the body (a forced request stays forced) and the message's subject and content type", () => {
    const body = { image: { ref: "docker.io/library/nginx:1" }, force: true };
    const copy = resubmissionCopy(deadLetter(3, { body, correlationId: "c-1" }));
    expect(copy.body).toEqual(body);
    expect(copy.subject).toBe("ScanRequested");
    expect(copy.contentType).toBe("application/json");
    expect(copy.correlationId).toBe("c-1");
  });

  it("drops the old failure's properties and the attempt counter, and points back to the dead letter", () => {
    const copy = resubmissionCopy(
      deadLetter(12, {
        applicationProperties: {
          registry: "myacr.azurecr.io",
          DeadLetterReason: "ScanTimeout",
          DeadLetterErrorDescription: "timed out",
          attempt: 3,
        },
      }),
    );
    expect(copy.applicationProperties).toEqual({
      registry: "myacr.azurecr.io",
      resubmittedFrom: "12",
    });
  });

  it("writes 64-bit sequence numbers without losing digits", () => {
    const copy = resubmissionCopy(deadLetter(1, { sequenceNumber: 9_223_372_036_854_775_807n }));
    expect(copy.applicationProperties.resubmittedFrom).toBe("9223372036854775807");
  });
});
