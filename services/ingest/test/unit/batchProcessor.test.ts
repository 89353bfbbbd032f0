import { scanRequestMessageId, type WorkloadEntity, workloadImagesOf } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { BatchProcessor, type BatchStats, emptyStats } from "../../src/core/batchProcessor.ts";
import { compileExclusions, NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import { AttemptMemory } from "../../src/core/replay.ts";
import { comparable, expectedSampleRequests } from "../support/expected.ts";
import { InMemoryArm, InMemoryQueue, InMemoryWorkloads } from "../support/fakes.ts";
import {
  activityLogRecord,
  resourceId,
  SUBSCRIPTION,
  samples,
  UNRELATED_OPERATIONS,
} from "../support/fixtures.ts";
import { captureLogs } from "../support/logs.ts";

const signal = new AbortController().signal;
const sampleBatch = () => [
  samples.activityLogAci(),
  samples.activityLogAca(),
  samples.eventGrid(),
  samples.cloudEvent(),
];
const inventory = () => [samples.armContainerGroup(), samples.armContainerApp(), samples.armJob()];

function setup(options: { windowMs?: number; exclusions?: Parameters<typeof compileExclusions>[0] } = {}) {
  const arm = new InMemoryArm(inventory());
  const queue = new InMemoryQueue();
  const workloads = new InMemoryWorkloads();
  const logs = captureLogs();
  let now = Date.parse("2025-03-14T12:10:00.000Z");
  let ids = 0;
  const processor = new BatchProcessor({
    lookup: arm,
    sink: queue,
    workloads,
    exclusions: options.exclusions ? compileExclusions(options.exclusions) : NO_EXCLUSIONS,
    recent: new RecentRequests(options.windowMs ?? 300_000),
    logger: logs.logger,
    lookupConcurrency: 4,
    now: () => new Date(now),
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
  });
  return { arm, queue, workloads, logs, processor, advance: (ms: number) => (now += ms) };
}

describe("processing a batch of events", () => {
  it("turns the shared samples into one request per distinct image with merged sources", async () => {
    const { arm, queue, processor } = setup();
    const result = await processor.process(sampleBatch(), signal);

    expect(comparable(queue.bodies())).toEqual(expectedSampleRequests());
    expect(arm.calls).toHaveLength(3);
    expect(result).toMatchObject({ checkpointIndex: 3, retryFrom: undefined });
    expect(result.stats).toEqual({
      recordsRead: 10,
      selected: 6,
      deletesSelected: 0,
      skipped: { start: 2, accept: 1, failure: 1 },
      lookups: 3,
      lookupFailures: {},
      resourcesWithoutContainers: 0,
      imagesFound: 9,
      imagesDropped: { "invalid-reference": 0, "excluded-image": 0, "invalid-request": 0 },
      duplicatesCollapsed: 1,
      requestsSent: 8,
      requestsRejected: 0,
      workloadsUpserted: 3,
      workloadsDeleted: 0,
      workloadWriteFailures: 0,
    });
  });

  it("keeps Workloads current: a write's lookup upserts the row with every container, a delete removes it", async () => {
    const { workloads, processor, advance } = setup();
    await processor.process(sampleBatch(), signal);
    expect(workloads.rows.size).toBe(3);
    const group = [...workloads.rows.values()].find((row) => row.Kind === "aci");
    expect(group).toMatchObject({
      partitionKey: SUBSCRIPTION,
      ResourceGroup: "rg-payments-prod",
      Name: "ci-invoice-worker",
      SeenBy: "event",
      FirstSeenAt: new Date("2025-03-14T12:10:00.000Z"),
    });
    expect(workloadImagesOf(group as WorkloadEntity).map((image) => [image.container, image.init])).toEqual(
      expect.arrayContaining([
        [expect.any(String), true],
        [expect.any(String), false],
      ]),
    );

    advance(60_000);
    const deleted = activityLogRecord({
      operationName: "MICROSOFT.CONTAINERINSTANCE/CONTAINERGROUPS/DELETE",
      resourceId: (group as WorkloadEntity).ResourceId.toUpperCase(),
    });
    const result = await processor.process([{ records: [deleted] }], signal);
    expect(result.stats).toMatchObject({ deletesSelected: 1, workloadsDeleted: 1, lookups: 0 });
    expect([...workloads.rows.values()].map((row) => row.Kind).sort()).toEqual(["aca", "aca-job"]);
  });

  it("keeps FirstSeenAt when a later write upserts the row again", async () => {
    const { workloads, processor, advance } = setup({ windowMs: 0 });
    await processor.process([samples.activityLogAci()], signal);
    advance(3_600_000);
    await processor.process([samples.activityLogAci()], signal);
    const [row] = workloads.rows.values();
    expect(row?.FirstSeenAt).toEqual(new Date("2025-03-14T12:10:00.000Z"));
    expect(row?.LastSeenAt).toEqual(new Date("2025-03-14T13:10:00.000Z"));
  });

  it("leaves the events of a failed table write unsettled, like a failed send, and writes on the replay", async () => {
    const { workloads, queue, processor } = setup();
    workloads.failing = true;
    const memory = new AttemptMemory();
    const first = await processor.process([samples.activityLogAci()], signal, memory);
    expect(first).toMatchObject({ checkpointIndex: -1, retryFrom: 0 });
    expect(first.stats.workloadWriteFailures).toBe(1);
    expect(first.unsettled[0]?.causes.map((cause) => cause.kind)).toEqual(["table-failed"]);

    workloads.failing = false;
    const replay = await processor.process([samples.activityLogAci()], signal, memory);
    expect(replay).toMatchObject({ checkpointIndex: 0, retryFrom: undefined });
    expect(replay.stats.workloadsUpserted).toBe(1);
    expect(workloads.rows.size).toBe(1);
    expect(queue.messages.length).toBeGreaterThan(0);
  });

  it("builds each message per the contract: body, message ID and application properties", async () => {
    const { queue, processor } = setup();
    await processor.process([samples.cloudEvent()], signal);
    const reconcile = queue.messages.find((m) => m.body.image.ref.endsWith("reconcile:2025.03.1"));
    expect(reconcile).toEqual({
      body: {
        schemaVersion: 1,
        requestId: expect.stringMatching(/^00000000-0000-4000-8000-0000000000\d\d$/),
        requestedAt: "2025-03-14T12:10:00.000Z",
        force: false,
        image: {
          ref: "contosoprod.azurecr.io/checkout/reconcile:2025.03.1",
          registry: "contosoprod.azurecr.io",
          repository: "checkout/reconcile",
          tag: "2025.03.1",
        },
        sources: [
          {
            kind: "aca-job",
            resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/jobs/caj-nightly-reconcile`,
            subscriptionId: SUBSCRIPTION,
            resourceGroup: "rg-checkout-prod",
            resourceName: "caj-nightly-reconcile",
            containerName: "reconcile",
            eventTime: "2025-03-14T12:05:19.812Z",
            correlationId: "bad6c609-69ff-4dc0-919a-60d106c4614f",
          },
        ],
      },
      messageId: scanRequestMessageId({ ref: "contosoprod.azurecr.io/checkout/reconcile:2025.03.1" }),
      subject: "ScanRequested",
      contentType: "application/json",
      applicationProperties: {
        registry: "contosoprod.azurecr.io",
        imageRef: "contosoprod.azurecr.io/checkout/reconcile:2025.03.1",
        schemaVersion: 1,
      },
    });
  });

  it("collapses repeats within the dedup window and requests again after it", async () => {
    const { queue, processor, advance } = setup({ windowMs: 60_000 });
    await processor.process(sampleBatch(), signal);
    const again = await processor.process(sampleBatch(), signal);
    expect(queue.messages).toHaveLength(8);
    expect(again.stats).toMatchObject({ requestsSent: 0, duplicatesCollapsed: 9 });
    expect(again.checkpointIndex).toBe(3);
    advance(60_000);
    await processor.process(sampleBatch(), signal);
    expect(queue.messages).toHaveLength(16);
  });

  it("logs and skips a resource that no longer exists, and checkpoints past it", async () => {
    const { queue, logs, processor } = setup();
    const gone = resourceId("rg-x", "Microsoft.ContainerInstance/containerGroups", "ci-deleted");
    const result = await processor.process(
      [
        {
          records: [
            activityLogRecord({
              resourceId: gone,
              operationName: "Microsoft.ContainerInstance/containerGroups/write",
            }),
          ],
        },
      ],
      signal,
    );
    expect(queue.messages).toHaveLength(0);
    expect(result).toMatchObject({
      checkpointIndex: 0,
      retryFrom: undefined,
      stats: { lookupFailures: { "not-found": 1 } },
    });
    expect(logs.find("resource no longer exists")).toEqual([
      expect.objectContaining({ resourceId: gone, kind: "not-found" }),
    ]);
  });

  it("checkpoints only before the first event whose lookup must be retried, and finishes on the retry", async () => {
    const { arm, queue, processor } = setup();
    const appId = String(samples.armContainerApp().id).toLowerCase();
    arm.failures.set(appId, {
      status: "failed",
      kind: "throttled",
      retryable: true,
      message: "429 TooManyRequests",
    });
    const batch = [samples.activityLogAci(), samples.activityLogAca(), samples.cloudEvent()];

    const first = await processor.process(batch, signal);
    expect(first).toMatchObject({
      checkpointIndex: 0,
      retryFrom: 1,
      stats: { lookupFailures: { throttled: 1 } },
    });
    expect(queue.messages.some((m) => m.body.image.ref.includes("checkout/api"))).toBe(false);

    arm.failures.clear();
    const retry = await processor.process(batch.slice(first.retryFrom), signal);
    expect(retry).toMatchObject({ checkpointIndex: 1, retryFrom: undefined });
    const refs = queue.messages.map((m) => m.body.image.ref);
    expect(refs.filter((ref) => ref.includes("checkout/api"))).toHaveLength(1);
    expect(new Set(refs).size).toBe(refs.length);
  });

  it("reports why each unsettled event is unsettled: the resource, its correlation ID and the failure kind", async () => {
    const { arm, processor } = setup();
    const appId = String(samples.armContainerApp().id);
    arm.failures.set(appId.toLowerCase(), {
      status: "failed",
      kind: "unauthorized",
      retryable: true,
      message: "403 AuthorizationFailed",
    });
    const result = await processor.process([samples.activityLogAci(), samples.activityLogAca()], signal);
    expect(result.unsettled).toEqual([
      {
        index: 1,
        causes: [
          {
            kind: "unauthorized",
            resourceId: expect.stringMatching(new RegExp(`^${appId}$`, "i")),
            correlationId: expect.any(String),
            message: "403 AuthorizationFailed",
          },
        ],
      },
    ]);
  });

  it("counts each event once across a failed attempt and its replay, as a run without the failure does", async () => {
    const batch = sampleBatch();
    const clean = setup();
    const expected = (await clean.processor.process(batch, signal)).stats;

    const { arm, processor } = setup();
    const appId = String(samples.armContainerApp().id).toLowerCase();
    arm.failures.set(appId, { status: "failed", kind: "server-error", retryable: true, message: "500" });
    const memory = new AttemptMemory();
    const attempts = [await processor.process(batch, signal, memory)];
    // A second failed replay, then the one that succeeds.
    attempts.push(await processor.process(batch.slice(attempts[0]?.retryFrom), signal, memory));
    arm.failures.clear();
    attempts.push(await processor.process(batch.slice(attempts[0]?.retryFrom), signal, memory));
    expect(attempts.at(-1)?.retryFrom).toBeUndefined();

    const { lookupFailures, ...counted } = sumStats(attempts.map((attempt) => attempt.stats));
    const { lookupFailures: none, ...expectedCounts } = expected;
    expect(none).toEqual({});
    expect(counted).toEqual(expectedCounts);
    // Each failed attempt is a failure seen: two attempts, one lookup of the app each.
    expect(lookupFailures).toEqual({ "server-error": 2 });
  });

  it("does not checkpoint past events whose messages Service Bus did not accept", async () => {
    const { queue, processor, logs } = setup();
    queue.acceptAtMost = 3;
    // The container group's three images are sent first and accepted; the job's two are not.
    const batch = [samples.activityLogAci(), samples.cloudEvent()];
    const first = await processor.process(batch, signal);
    expect(first.stats.requestsSent).toBe(3);
    expect(first).toMatchObject({ checkpointIndex: 0, retryFrom: 1 });
    expect(logs.find("sending scan requests failed")).toEqual([expect.objectContaining({ notSent: 2 })]);

    queue.acceptAtMost = 0;
    const refused = await processor.process(batch.slice(1), signal);
    expect(refused).toMatchObject({ checkpointIndex: -1, retryFrom: 0 });

    queue.acceptAtMost = Number.POSITIVE_INFINITY;
    const retry = await processor.process(batch, signal);
    expect(retry).toMatchObject({
      checkpointIndex: 1,
      retryFrom: undefined,
      stats: { requestsSent: 2, duplicatesCollapsed: 3 },
    });
    expect(queue.messages).toHaveLength(5);
  });

  it("skips an ARM resource with no containers", async () => {
    const { arm, queue, processor, logs } = setup();
    const empty = { ...samples.armJob(), properties: { template: { containers: [] } } };
    arm.put(empty);
    const result = await processor.process([samples.cloudEvent()], signal);
    expect(queue.messages).toHaveLength(0);
    expect(result).toMatchObject({ checkpointIndex: 0, stats: { resourcesWithoutContainers: 1 } });
    expect(logs.find("has no containers")[0]).toMatchObject({ resourceId: samples.armJob().id });
  });

  it("counts and logs an invalid image reference with its resource and never sends it", async () => {
    const { arm, queue, processor, logs } = setup();
    const job = samples.armJob() as {
      id: string;
      properties: { template: { containers: { name: string; image: string }[] } };
    };
    job.properties.template.containers.push({ name: "sneaky", image: "-v /:/host alpine" });
    arm.put(job);
    const result = await processor.process([samples.cloudEvent()], signal);
    expect(result.stats.imagesDropped["invalid-reference"]).toBe(1);
    expect(queue.messages.map((m) => m.body.image.ref).sort()).toEqual([
      "contosoprod.azurecr.io/checkout/reconcile:2025.03.1",
      "mcr.microsoft.com/azure-cli:2.63.0",
    ]);
    expect(logs.find("invalid image reference")).toEqual([
      expect.objectContaining({ resourceId: job.id, containerName: "sneaky", image: "-v /:/host alpine" }),
    ]);
  });

  it("applies resource and image exclusions", async () => {
    const { arm, queue, processor } = setup({
      exclusions: { resourceGroups: ["rg-payments-*"], resourceNames: [], images: ["mcr.microsoft.com/**"] },
    });
    const result = await processor.process(sampleBatch(), signal);
    expect(arm.calls.every((id) => !id.includes("rg-payments"))).toBe(true);
    expect(
      queue.messages
        .map((m) => m.body.image.ref)
        .some((ref) => ref.startsWith("mcr.") || ref.includes("payments")),
    ).toBe(false);
    expect(result.stats.skipped["excluded-resource-group"]).toBe(2);
    expect(result.stats.imagesDropped["excluded-image"]).toBe(3);
  });

  it("skips malformed events with a logged reason and still checkpoints past them", async () => {
    const { queue, processor, logs } = setup();
    const encode = (text: string) => new TextEncoder().encode(text);
    const result = await processor.process(
      [
        encode("{oops"),
        { hello: 1 },
        { records: "nope" },
        { records: [{ time: "x" }] },
        samples.cloudEvent(),
      ],
      signal,
    );
    expect(result).toMatchObject({ checkpointIndex: 4, retryFrom: undefined });
    expect(result.stats.skipped).toEqual({
      "not-json": 1,
      "unknown-shape": 1,
      "records-not-array": 1,
      "missing-field": 1,
    });
    expect(queue.messages).toHaveLength(2);
    expect(logs.find("malformed record skipped").map((line) => line.reason)).toEqual([
      "not-json",
      "unknown-shape",
      "records-not-array",
      "missing-field",
    ]);
  });

  it("handles 10,000 records in one event, mostly unrelated, with one lookup per resource", async () => {
    const { arm, queue, processor } = setup();
    const records = Array.from({ length: 10_000 }, (_, index) => {
      if (index % 1000 === 0) {
        return activityLogRecord({
          resourceId: String(samples.armContainerGroup().id),
          operationName: "Microsoft.ContainerInstance/containerGroups/write",
          resultType: index % 2000 === 0 ? "Start" : "Success",
        });
      }
      const [type, operation] = UNRELATED_OPERATIONS[index % UNRELATED_OPERATIONS.length] ?? ["", ""];
      return activityLogRecord({
        resourceId: resourceId("rg-busy", type, `r${index}`),
        operationName: operation,
      });
    });
    const result = await processor.process([{ records }], signal);
    expect(result.stats).toMatchObject({ recordsRead: 10_000, selected: 5, lookups: 1, requestsSent: 3 });
    expect(result.stats.skipped).toEqual({ start: 5, "other-operation": 9990 });
    expect(arm.calls).toHaveLength(1);
    expect(queue.messages).toHaveLength(3);
  });
});

/** The stats of several attempts added up, as the metrics add them. */
function sumStats(all: BatchStats[]): BatchStats {
  const addCounts = (into: Record<string, number>, from: Record<string, number | undefined>) => {
    for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + (count ?? 0);
  };
  const total = emptyStats();
  for (const stats of all) {
    total.recordsRead += stats.recordsRead;
    total.selected += stats.selected;
    addCounts(total.skipped, stats.skipped);
    total.lookups += stats.lookups;
    addCounts(total.lookupFailures, stats.lookupFailures);
    total.resourcesWithoutContainers += stats.resourcesWithoutContainers;
    total.imagesFound += stats.imagesFound;
    addCounts(total.imagesDropped, stats.imagesDropped);
    total.duplicatesCollapsed += stats.duplicatesCollapsed;
    total.requestsSent += stats.requestsSent;
    total.requestsRejected += stats.requestsRejected;
    total.deletesSelected += stats.deletesSelected;
    total.workloadsUpserted += stats.workloadsUpserted;
    total.workloadsDeleted += stats.workloadsDeleted;
    total.workloadWriteFailures += stats.workloadWriteFailures;
  }
  return total;
}
