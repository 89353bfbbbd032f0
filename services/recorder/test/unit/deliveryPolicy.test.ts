import { describe, expect, it } from "vitest";
import { decideDelivery, retryAfterMs } from "../../src/core/deliveryPolicy.ts";

const policy = { maxAttempts: 4, initialDelayMs: 1000, maxDelayMs: 60_000 };
const now = new Date("2025-03-14T09:00:00Z");
const rejected = (status: number, retryAfter?: string) => ({
  kind: "rejected" as const,
  status,
  retryAfter,
  excerpt: "",
});

describe("webhook delivery policy", () => {
  it("retries 429, 5xx and unreachable receivers with exponential backoff, up to the attempt limit", () => {
    expect(decideDelivery(rejected(500), 1, policy, now)).toEqual({ kind: "retry", delayMs: 1000 });
    expect(decideDelivery(rejected(503), 3, policy, now)).toEqual({ kind: "retry", delayMs: 4000 });
    expect(decideDelivery({ kind: "unreachable", error: "timeout" }, 2, policy, now)).toEqual({
      kind: "retry",
      delayMs: 2000,
    });
    expect(decideDelivery(rejected(500), 4, policy, now)).toEqual({ kind: "give-up" });
  });

  it("honours Retry-After in seconds or as a date, capped", () => {
    expect(decideDelivery(rejected(429, "7"), 1, policy, now)).toEqual({ kind: "retry", delayMs: 7000 });
    expect(decideDelivery(rejected(429, "Fri, 14 Mar 2025 09:00:30 GMT"), 1, policy, now)).toEqual({
      kind: "retry",
      delayMs: 30_000,
    });
    expect(decideDelivery(rejected(503, "86400"), 1, policy, now)).toEqual({
      kind: "retry",
      delayMs: 60_000,
    });
    expect(retryAfterMs("soon", now)).toBeUndefined();
  });

  it("gives up at once on other failures and is done on success", () => {
    expect(decideDelivery(rejected(400), 1, policy, now)).toEqual({ kind: "give-up" });
    expect(decideDelivery(rejected(404), 1, policy, now)).toEqual({ kind: "give-up" });
    expect(decideDelivery({ kind: "delivered", status: 202 }, 1, policy, now)).toEqual({ kind: "done" });
  });
});
