import type { RunningArmEmulator } from "@qcs/emulators";
import { waitFor } from "@qcs/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BatchProcessor } from "../../src/core/batchProcessor.ts";
import { NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import type { ResourceLookup } from "../../src/core/lookup.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import type { Target } from "../../src/core/select.ts";
import { lookupThrough, startSampleArm } from "../support/arm.ts";
import { InMemoryQueue, InMemoryWorkloads } from "../support/fakes.ts";
import { SUBSCRIPTION, samples } from "../support/fixtures.ts";
import { captureLogs } from "../support/logs.ts";

const signal = new AbortController().signal;
const target = (kind: Target["kind"], resourceGroup: string, name: string): Target => ({
  kind,
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/x/y/${name}`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup,
  name,
  eventTime: undefined,
  correlationId: "c-1",
});
const group = target("aci", "rg-payments-prod", "ci-invoice-worker");
const app = target("aca", "rg-checkout-prod", "ca-checkout-api");
const job = target("aca-job", "rg-checkout-prod", "caj-nightly-reconcile");
const groupId = String(samples.armContainerGroup().id);
const jobId = String(samples.armJob().id);

describe("looking resources up in ARM through the SDKs", () => {
  let arm: RunningArmEmulator;
  let lookup: ResourceLookup;
  beforeAll(async () => {
    arm = await startSampleArm();
    lookup = lookupThrough(arm);
  });
  afterEach(() => arm.faults.clear());
  afterAll(() => arm?.close());

  it("returns a container group's init containers and containers with ARM's resource ID", async () => {
    expect(await lookup.lookup(group, signal)).toEqual({
      status: "found",
      resource: {
        id: groupId,
        containers: [
          {
            name: "db-migrate",
            image:
              "contosoprod.azurecr.io/payments/invoice-migrations@sha256:9490be4058e03b7603b81fb5f077816aa0263395d83e7d54c4259f49ae2413f1",
            init: true,
          },
          {
            name: "invoice-worker",
            image: "contosoprod.azurecr.io/payments/invoice-worker:2.4.1",
            init: false,
          },
          { name: "log-shipper", image: "fluent/fluent-bit:3.1", init: false },
        ],
      },
    });
  });

  it("returns a container app's and a job's template containers", async () => {
    const appResult = await lookup.lookup(app, signal);
    const jobResult = await lookup.lookup(job, signal);
    expect(
      appResult.status === "found" && appResult.resource.containers.map((c) => [c.name, c.init]),
    ).toEqual([
      ["warm-cache", true],
      ["checkout-api", false],
      ["otel-collector", false],
      ["dotnet-runtime-probe", false],
    ]);
    expect(jobResult).toMatchObject({ status: "found", resource: { id: jobId } });
  });

  it("reports a resource that was deleted as not-found, not to be retried", async () => {
    expect(await lookup.lookup(target("aci", "rg-payments-prod", "ci-deleted"), signal)).toMatchObject({
      status: "failed",
      kind: "not-found",
      retryable: false,
    });
  });

  it("retries throttling after the Retry-After the server asked for", async () => {
    arm.faults.add({ resourceId: jobId, status: 429, retryAfterSeconds: 1, times: 1 });
    const before = arm.requests.length;
    expect(await lookup.lookup(job, signal)).toMatchObject({ status: "found" });
    const [throttled, retried] = arm.requests.slice(before);
    expect([throttled?.status, retried?.status]).toEqual([429, 200]);
    expect((retried?.receivedAt ?? 0) - (throttled?.receivedAt ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("retries server errors with backoff", async () => {
    arm.faults.add({ resourceId: groupId, status: 503, times: 1 });
    arm.faults.add({ resourceId: groupId, status: 500, times: 1 });
    const before = arm.requests.length;
    expect(await lookup.lookup(group, signal)).toMatchObject({ status: "found" });
    expect(arm.requests.slice(before).map((r) => r.status)).toEqual([503, 500, 200]);
  });

  it("reports persistent server errors as retryable once the SDK's retries are spent", async () => {
    arm.faults.add({ resourceId: groupId, status: 500 });
    expect(await lookupThrough(arm, { maxRetries: 1 }).lookup(group, signal)).toMatchObject({
      status: "failed",
      kind: "server-error",
      retryable: true,
    });
  });

  it("gives up on a lookup at its deadline, without holding up other lookups", async () => {
    arm.faults.add({ resourceId: groupId, delayMs: 600_000 });
    const impatient = lookupThrough(arm, { timeoutMs: 1500 });
    const before = arm.requests.length;
    const slow = impatient.lookup(group, signal);
    const held = await waitFor(
      () => arm.requests.slice(before).find((r) => r.path === groupId),
      "the held request",
    );
    // Another resource is answered while the first is still held.
    expect(await impatient.lookup(job, signal)).toMatchObject({ status: "found" });
    expect(held.status).toBeUndefined();
    expect(await slow).toMatchObject({ status: "failed", kind: "timeout", retryable: true });
  });

  it("reports a refused token as unauthorized and retryable", async () => {
    const { armLookup } = await import("../../src/adapters/arm/armLookup.ts");
    const { armClientsFactory, staticTokenCredential } = await import("../../src/adapters/arm/armClients.ts");
    const wrongToken = armLookup({
      clientsFor: armClientsFactory({
        endpoint: arm.url,
        credential: staticTokenCredential("not-the-token"),
        ca: arm.ca,
        retry: { maxRetries: 0, retryDelayInMs: 10, maxRetryDelayInMs: 10 },
      }),
      timeoutMs: 10_000,
    });
    expect(await wrongToken.lookup(job, signal)).toMatchObject({
      status: "failed",
      kind: "unauthorized",
      retryable: true,
    });
  });

  it("reports an unreachable endpoint as a network failure", async () => {
    const { armLookup } = await import("../../src/adapters/arm/armLookup.ts");
    const { armClientsFactory, staticTokenCredential } = await import("../../src/adapters/arm/armClients.ts");
    const closed = armLookup({
      clientsFor: armClientsFactory({
        endpoint: "https://127.0.0.1:1",
        credential: staticTokenCredential("t"),
        retry: { maxRetries: 0, retryDelayInMs: 10, maxRetryDelayInMs: 10 },
      }),
      timeoutMs: 10_000,
    });
    expect(await closed.lookup(job, signal)).toMatchObject({
      status: "failed",
      kind: "network",
      retryable: true,
    });
  });

  it("looks a resource named by several events of one batch up once", async () => {
    const queue = new InMemoryQueue();
    const processor = new BatchProcessor({
      lookup,
      sink: queue,
      workloads: new InMemoryWorkloads(),
      exclusions: NO_EXCLUSIONS,
      recent: new RecentRequests(0),
      logger: captureLogs().logger,
      lookupConcurrency: 4,
    });
    const before = arm.requests.length;
    // The ACI write three times: Activity Log, Event Grid, and Event Grid again (at-least-once delivery).
    const [aciEvent] = samples.eventGrid();
    await processor.process([samples.activityLogAci(), [aciEvent], [aciEvent]], signal);
    expect(arm.requests.slice(before).map((r) => r.path)).toEqual([groupId]);
    expect(queue.messages).toHaveLength(3);
  });
});
