import { describe, expect, it } from "vitest";
import { hhmmss, QuotaWindow } from "../../src/arm/quota.ts";

describe("Resource Graph's quota window", () => {
  it("allows the quota per window, counts down, and starts over when the window has passed", () => {
    let now = 1_000_000;
    const quota = new QuotaWindow({ requests: 2, windowSeconds: 5 }, () => now);
    expect(quota.take()).toEqual({ allowed: true, remaining: 1, resetsAfterSeconds: 5 });
    now += 1_500;
    expect(quota.take()).toEqual({ allowed: true, remaining: 0, resetsAfterSeconds: 4 });
    now += 3_000;
    expect(quota.take()).toEqual({ allowed: false, remaining: 0, resetsAfterSeconds: 1 });
    now += 500;
    expect(quota.take()).toEqual({ allowed: true, remaining: 1, resetsAfterSeconds: 5 });
  });

  it("writes the reset time as hh:mm:ss", () => {
    expect([hhmmss(5), hhmmss(3_725), hhmmss(86_399)]).toEqual(["00:00:05", "01:02:05", "23:59:59"]);
  });
});
