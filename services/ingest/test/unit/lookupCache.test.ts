import { describe, expect, it } from "vitest";
import type { LookupResult, ResourceLookup } from "../../src/core/lookup.ts";
import { cachedLookup } from "../../src/core/lookupCache.ts";
import type { Target } from "../../src/core/select.ts";
import { InMemoryArm } from "../support/fakes.ts";
import { resourceId, SUBSCRIPTION, samples } from "../support/fixtures.ts";

const group = samples.armContainerGroup();
const target = (correlationId: string | undefined, id = String(group.id)): Target => ({
  kind: "aci",
  resourceId: id,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "rg-payments-prod",
  name: "ci-invoice-worker",
  eventTime: undefined,
  correlationId,
});
const signal = new AbortController().signal;

describe("the warm lookup cache", () => {
  it("looks a resource up once per correlation ID, whatever the casing of its ID", async () => {
    const arm = new InMemoryArm([group]);
    const cache = cachedLookup(arm, { ttlMs: 60_000 });
    await cache.lookup(target("c-1"), signal);
    await cache.lookup(target("c-1", String(group.id).toUpperCase()), signal);
    expect(arm.calls).toHaveLength(1);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
  });

  it("looks up again for a new write (another correlation ID) and after the TTL", async () => {
    let now = 0;
    const arm = new InMemoryArm([group]);
    const cache = cachedLookup(arm, { ttlMs: 1000, now: () => now });
    await cache.lookup(target("c-1"), signal);
    await cache.lookup(target("c-2"), signal);
    now = 1000;
    await cache.lookup(target("c-1"), signal);
    expect(arm.calls).toHaveLength(3);
  });

  it("never caches without a correlation ID", async () => {
    const arm = new InMemoryArm([group]);
    const cache = cachedLookup(arm, { ttlMs: 60_000 });
    await cache.lookup(target(undefined), signal);
    await cache.lookup(target(undefined), signal);
    expect(arm.calls).toHaveLength(2);
  });

  it("caches not-found answers but not failures", async () => {
    const arm = new InMemoryArm([]);
    const cache = cachedLookup(arm, { ttlMs: 60_000 });
    const gone = target("c-1", resourceId("rg", "Microsoft.ContainerInstance/containerGroups", "gone"));
    await cache.lookup(gone, signal);
    await cache.lookup(gone, signal);
    arm.failures.set(String(group.id).toLowerCase(), {
      status: "failed",
      kind: "throttled",
      retryable: true,
      message: "429",
    });
    await cache.lookup(target("c-1"), signal);
    await cache.lookup(target("c-1"), signal);
    expect(arm.calls).toHaveLength(3);
  });

  it("shares one request between concurrent lookups of one key", async () => {
    let release: (result: LookupResult) => void = () => {};
    let calls = 0;
    const slow: ResourceLookup = {
      lookup: () => {
        calls += 1;
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const cache = cachedLookup(slow, { ttlMs: 60_000 });
    const first = cache.lookup(target("c-1"), signal);
    const second = cache.lookup(target("c-1"), signal);
    release({ status: "found", resource: { id: "x", containers: [] } });
    expect(await first).toEqual(await second);
    expect(calls).toBe(1);
  });

  it("keeps at most maxEntries, dropping the oldest", async () => {
    const arm = new InMemoryArm([group]);
    const cache = cachedLookup(arm, { ttlMs: 60_000, maxEntries: 1 });
    await cache.lookup(target("c-1"), signal);
    await cache.lookup(target("c-2"), signal);
    await cache.lookup(target("c-1"), signal);
    expect(arm.calls).toHaveLength(3);
  });
});
