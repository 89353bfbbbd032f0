import { parseImageRef, type ResourceScanSource } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { decideCheckpoint } from "../../src/core/checkpoint.ts";
import { compileExclusions, NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { imagesOf } from "../../src/core/images.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import { MAX_SOURCES, RequestCollector } from "../../src/core/requestCollector.ts";
import type { Target } from "../../src/core/select.ts";
import { SUBSCRIPTION } from "../support/fixtures.ts";

const target: Target = {
  kind: "aci",
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/RG-PAYMENTS-PROD/providers/Microsoft.ContainerInstance/containerGroups/CI-A`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "RG-PAYMENTS-PROD",
  name: "CI-A",
  eventTime: "2025-03-14T09:21:11.554Z",
  correlationId: "c-1",
};
const armId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-a`;

describe("images of a deployed resource", () => {
  it("yields every container and init container with the resource as ARM spells it", () => {
    const outcomes = imagesOf(
      target,
      {
        id: armId,
        containers: [
          { name: "migrate", image: "contosoprod.azurecr.io/payments/migrate:1", init: true },
          { name: "app", image: "nginx", init: false },
        ],
      },
      NO_EXCLUSIONS,
    );
    expect(outcomes).toEqual([
      {
        ok: true,
        image: parseImageRef("contosoprod.azurecr.io/payments/migrate:1"),
        source: {
          kind: "aci",
          resourceId: armId,
          subscriptionId: SUBSCRIPTION,
          resourceGroup: "rg-payments-prod",
          resourceName: "ci-a",
          containerName: "migrate",
          eventTime: "2025-03-14T09:21:11.554Z",
          correlationId: "c-1",
        },
      },
      expect.objectContaining({ ok: true, image: parseImageRef("docker.io/library/nginx:latest") }),
    ]);
  });

  it("reports an image string that is not a valid reference with the resource and container", () => {
    const outcomes = imagesOf(
      target,
      { id: armId, containers: [{ name: "app", image: "--privileged;rm -rf /", init: false }] },
      NO_EXCLUSIONS,
    );
    expect(outcomes).toEqual([
      {
        ok: false,
        reason: "invalid-reference",
        resourceId: armId,
        containerName: "app",
        image: "--privileged;rm -rf /",
        detail: "contains whitespace or control characters",
      },
    ]);
  });

  it("reports a container without an image as an invalid reference", () => {
    const [outcome] = imagesOf(
      target,
      { id: armId, containers: [{ name: "app", image: undefined, init: false }] },
      NO_EXCLUSIONS,
    );
    expect(outcome).toMatchObject({ ok: false, reason: "invalid-reference", detail: "empty" });
  });

  it("drops excluded images", () => {
    const exclusions = compileExclusions({
      resourceGroups: [],
      resourceNames: [],
      images: ["mcr.microsoft.com/**"],
    });
    const [outcome] = imagesOf(
      target,
      { id: armId, containers: [{ name: "cli", image: "mcr.microsoft.com/azure-cli:2.63.0", init: true }] },
      exclusions,
    );
    expect(outcome).toMatchObject({
      ok: false,
      reason: "excluded-image",
      image: "mcr.microsoft.com/azure-cli:2.63.0",
    });
  });

  it("falls back to the event's resource ID when ARM's does not parse", () => {
    const [outcome] = imagesOf(
      target,
      { id: "weird", containers: [{ name: "app", image: "nginx", init: false }] },
      NO_EXCLUSIONS,
    );
    expect(outcome).toMatchObject({
      ok: true,
      source: { resourceId: target.resourceId, resourceName: "CI-A" },
    });
  });
});

describe("collecting one request per distinct image", () => {
  const source = (resourceId: string, containerName: string): ResourceScanSource => ({
    kind: "aca",
    resourceId,
    subscriptionId: SUBSCRIPTION,
    resourceGroup: "rg",
    resourceName: resourceId.split("/").pop() ?? "",
    containerName,
  });

  it("merges the sources of one image across containers and resources, and the events behind them", () => {
    const collector = new RequestCollector();
    collector.add(parseImageRef("nginx"), source("/a", "web"), [0]);
    collector.add(parseImageRef("docker.io/library/nginx:latest"), source("/b", "web"), [3]);
    collector.add(parseImageRef("nginx:latest"), source("/A", "web"), [5]);
    collector.add(parseImageRef("redis"), source("/a", "cache"), [0]);
    const entries = collector.entries();
    expect(
      entries.map((entry) => [
        entry.image.ref,
        entry.sources.map((s) => s.resourceId),
        [...entry.eventIndices],
      ]),
    ).toEqual([
      ["docker.io/library/nginx:latest", ["/a", "/b"], [0, 3, 5]],
      ["docker.io/library/redis:latest", ["/a"], [0]],
    ]);
  });

  it("keys digest-pinned images by digest", () => {
    const digest = "sha256:440637c14e5dfa5d8e16ad444190cfe3b4231692bad07b4586747c3f91011e53";
    const collector = new RequestCollector();
    collector.add(
      parseImageRef(`contosoprod.azurecr.io/checkout/api:1.0@${digest}`),
      source("/a", "api"),
      [0],
    );
    collector.add(parseImageRef(`contosoprod.azurecr.io/checkout/api@${digest}`), source("/b", "api"), [1]);
    expect(collector.entries()).toHaveLength(1);
  });

  it("keeps at most the contract's 100 sources and counts the rest", () => {
    const collector = new RequestCollector();
    for (let i = 0; i < MAX_SOURCES + 5; i += 1)
      collector.add(parseImageRef("nginx"), source(`/r${i}`, "web"), [i]);
    const [entry] = collector.entries();
    expect(entry?.sources).toHaveLength(MAX_SOURCES);
    expect(entry?.sourcesDropped).toBe(5);
  });
});

describe("the in-memory dedup window", () => {
  it("remembers a message ID for the window and forgets it after", () => {
    const recent = new RecentRequests(1000);
    recent.add("m1", 10_000);
    expect(recent.has("m1", 10_999)).toBe(true);
    expect(recent.has("m1", 11_000)).toBe(false);
    expect(recent.size).toBe(0);
  });

  it("drops the oldest entries beyond its bound", () => {
    const recent = new RecentRequests(60_000, 2);
    recent.add("m1", 1);
    recent.add("m2", 2);
    recent.add("m3", 3);
    expect([recent.has("m1", 4), recent.has("m2", 4), recent.has("m3", 4)]).toEqual([false, true, true]);
  });

  it("remembers nothing with a zero window", () => {
    const recent = new RecentRequests(0);
    recent.add("m1", 1);
    expect(recent.has("m1", 1)).toBe(false);
  });
});

describe("the checkpoint decision", () => {
  it("checkpoints the last event when everything is settled", () => {
    expect(decideCheckpoint(5, [])).toEqual({ checkpointIndex: 4, retryFrom: undefined });
  });

  it("stops just before the first unsettled event and retries from it", () => {
    expect(decideCheckpoint(5, [3, 1, 4])).toEqual({ checkpointIndex: 0, retryFrom: 1 });
  });

  it("checkpoints nothing when the first event is unsettled", () => {
    expect(decideCheckpoint(5, [0])).toEqual({ checkpointIndex: -1, retryFrom: 0 });
  });
});
