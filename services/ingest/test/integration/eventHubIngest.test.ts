/**
 * The Event Hubs consumer adapter over real sockets: the Event Hubs emulator, checkpoints in
 * Azurite through BlobCheckpointStore, lookups through the real ARM SDKs against the local ARM
 * endpoint. The queue is the in-memory one here; the end-to-end suite uses Service Bus.
 */
import { type RunningArmEmulator, type RunningAzurite, startEventHubsEmulator } from "@qcs/emulators";
import { waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BatchProcessor, type BatchStats } from "../../src/core/batchProcessor.ts";
import { NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import { lookupThrough, startSampleArm } from "../support/arm.ts";
import { type IngestHarness, sendEvents, startConsumer } from "../support/eventHubs.ts";
import { comparable, expectedSampleRequests } from "../support/expected.ts";
import { InMemoryQueue, InMemoryWorkloads } from "../support/fakes.ts";
import { activityLogRecord, samples } from "../support/fixtures.ts";
import { captureLogs } from "../support/logs.ts";

describe("consuming the activity-log hub with checkpoints in Blob storage", () => {
  let azurite: RunningAzurite;
  let arm: RunningArmEmulator;
  const cleanup: (() => Promise<void>)[] = [];
  let containers = 0;

  beforeAll(async () => {
    [azurite, arm] = await Promise.all([sharedAzurite(), startSampleArm()]);
  });
  afterEach(async () => {
    arm.faults.clear();
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });
  afterAll(async () => {
    await Promise.allSettled([azurite?.stop(), arm?.close()]);
  });

  async function setup(options: { giveUpAfterMs?: number; throwOn?: (body: unknown) => boolean } = {}) {
    const eventHubs = await startEventHubsEmulator();
    cleanup.push(() => eventHubs.close());
    const container = `checkpoints-${++containers}`;
    const start = async (queue: InMemoryQueue): Promise<IngestHarness> => {
      const processor = new BatchProcessor({
        lookup: lookupThrough(arm),
        sink: queue,
        workloads: new InMemoryWorkloads(),
        exclusions: NO_EXCLUSIONS,
        recent: new RecentRequests(300_000),
        logger: captureLogs().logger,
        lookupConcurrency: 4,
      });
      const harness = await startConsumer({
        eventHubsConnectionString: eventHubs.connectionString,
        storageConnectionString: azurite.connectionString,
        container,
        process: (bodies, signal, memory) => {
          if (bodies.some((body) => options.throwOn?.(body))) throw new Error("a processing defect");
          return processor.process(bodies, signal, memory);
        },
        logger: captureLogs().logger,
        giveUpAfterMs: options.giveUpAfterMs,
      });
      cleanup.push(() => harness.close());
      return harness;
    };
    return { eventHubs, start };
  }

  it("turns events into requests, checkpoints them, and after a restart reads only what came since", async () => {
    const { eventHubs, start } = await setup();
    await sendEvents(eventHubs.connectionString, "0", [samples.activityLogAci(), samples.activityLogAca()]);
    const firstQueue = new InMemoryQueue();
    const first = await start(firstQueue);
    await waitFor(
      async () => (await first.checkpoints())["0"] === 1,
      "partition 0 checkpointed at its 2nd event",
    );
    expect(comparable(firstQueue.bodies())).toEqual(expectedSampleRequests("activity-log"));
    await first.close();

    // While nobody reads: a new write of the job.
    const jobWrite = activityLogRecord({
      resourceId: String(samples.armJob().id),
      operationName: "Microsoft.App/jobs/write",
      correlationId: "0e0e0e0e-0000-4000-8000-000000000001",
    });
    await sendEvents(eventHubs.connectionString, "0", [{ records: [jobWrite] }]);

    const secondQueue = new InMemoryQueue();
    const second = await start(secondQueue);
    await waitFor(
      async () => (await second.checkpoints())["0"] === 2,
      "partition 0 checkpointed at its 3rd event",
    );
    expect(
      secondQueue
        .bodies()
        .map((body) => body.image.ref)
        .sort(),
    ).toEqual(["contosoprod.azurecr.io/checkout/reconcile:2025.03.1", "mcr.microsoft.com/azure-cli:2.63.0"]);
    expect(second.results.reduce((sum, result) => sum + result.stats.recordsRead, 0)).toBe(1);
  });

  it("keeps other partitions going while one waits for a slow lookup", async () => {
    const { eventHubs, start } = await setup();
    const groupId = String(samples.armContainerGroup().id);
    arm.faults.add({ resourceId: groupId, delayMs: 600_000 });
    const before = arm.requests.length;
    await sendEvents(eventHubs.connectionString, "0", [samples.activityLogAci()]);
    await sendEvents(eventHubs.connectionString, "1", [samples.cloudEvent()]);
    const queue = new InMemoryQueue();
    const harness = await start(queue);

    await waitFor(() => queue.messages.length === 2, "the job's requests from partition 1");
    await waitFor(async () => (await harness.checkpoints())["1"] === 0, "partition 1 checkpointed");
    expect(
      arm.requests
        .slice(before)
        .filter((r) => r.path === groupId)
        .map((r) => r.status),
    ).toEqual([undefined]);
    expect((await harness.checkpoints())["0"]).toBeUndefined();

    arm.faults.clear();
    await waitFor(
      async () => (await harness.checkpoints())["0"] === 0,
      "partition 0 checkpointed after the lookup",
    );
    expect(queue.messages).toHaveLength(5);
  });

  it("processes events again when their lookups fail, and checkpoints once they succeed", async () => {
    const { eventHubs, start } = await setup();
    const jobId = String(samples.armJob().id);
    arm.faults.add({ resourceId: jobId, status: 500 });
    await sendEvents(eventHubs.connectionString, "2", [samples.activityLogAci(), samples.cloudEvent()]);
    const queue = new InMemoryQueue();
    const harness = await start(queue);

    // The container group's event is settled and checkpointed; the job's is not.
    await waitFor(async () => (await harness.checkpoints())["2"] === 0, "the first event checkpointed");
    await waitFor(
      () => harness.results.filter((r) => r.retryFrom !== undefined).length >= 2,
      "two failed attempts",
    );
    expect((await harness.checkpoints())["2"]).toBe(0);

    arm.faults.clear();
    await waitFor(async () => (await harness.checkpoints())["2"] === 1, "the job's event checkpointed");
    expect(
      queue.messages.map((m) => m.body.image.ref).filter((ref) => ref.includes("reconcile")),
    ).toHaveLength(1);

    // Counted once, as a run without the failures counts: each replay adds only what it settled.
    const clean = await new BatchProcessor({
      lookup: lookupThrough(arm),
      sink: new InMemoryQueue(),
      workloads: new InMemoryWorkloads(),
      exclusions: NO_EXCLUSIONS,
      recent: new RecentRequests(300_000),
      logger: captureLogs().logger,
      lookupConcurrency: 4,
    }).process([samples.activityLogAci(), samples.cloudEvent()], AbortSignal.timeout(20_000));
    const total = (count: (stats: BatchStats) => number) =>
      harness.results.reduce((sum, result) => sum + count(result.stats), 0);
    for (const count of [
      (stats: BatchStats) => stats.recordsRead,
      (stats: BatchStats) => stats.selected,
      (stats: BatchStats) => stats.lookups,
      (stats: BatchStats) => stats.imagesFound,
      (stats: BatchStats) => stats.duplicatesCollapsed,
      (stats: BatchStats) => stats.requestsSent,
    ])
      expect(total(count)).toBe(count(clean.stats));
  });

  it("gives up an event whose processing keeps throwing, and processes the events after it", async () => {
    const isPoison = (body: unknown) => new TextDecoder().decode(body as Uint8Array).includes("poison");
    const { eventHubs, start } = await setup({ giveUpAfterMs: 500, throwOn: isPoison });
    await sendEvents(eventHubs.connectionString, "3", [{ poison: true }, samples.cloudEvent()]);
    const queue = new InMemoryQueue();
    const harness = await start(queue);
    await waitFor(async () => (await harness.checkpoints())["3"] === 1, "both events checkpointed");
    expect(harness.givenUp).toEqual([
      {
        index: 0,
        failingForMs: expect.any(Number),
        causes: [{ kind: "processing-error", message: "a processing defect" }],
      },
    ]);
    // Every attempt that threw is counted (the first one at least, then replays until given up).
    expect(harness.failures).toBeGreaterThanOrEqual(1);
    expect(
      queue.messages.map((m) => m.body.image.ref).filter((ref) => ref.includes("reconcile")),
    ).toHaveLength(1);
  });

  it("checkpoints nothing while the queue refuses, and sends everything once it accepts", async () => {
    const { eventHubs, start } = await setup();
    await sendEvents(eventHubs.connectionString, "3", [samples.cloudEvent()]);
    const queue = new InMemoryQueue();
    queue.acceptAtMost = 0;
    const harness = await start(queue);
    await waitFor(() => harness.results.length >= 2, "two refused attempts");
    expect(await harness.checkpoints()).toEqual({});
    queue.acceptAtMost = Number.POSITIVE_INFINITY;
    await waitFor(async () => (await harness.checkpoints())["3"] === 0, "the event checkpointed");
    expect(queue.messages).toHaveLength(2);
  });

  it("checkpoints past events that are not JSON or of no interest", async () => {
    const { eventHubs, start } = await setup();
    await sendEvents(eventHubs.connectionString, "1", [
      new TextEncoder().encode("definitely not json"),
      { hello: "world" },
      {
        records: [
          activityLogRecord({ resourceId: "/subscriptions/x", operationName: "Microsoft.Web/sites/write" }),
        ],
      },
    ]);
    const queue = new InMemoryQueue();
    const harness = await start(queue);
    await waitFor(async () => (await harness.checkpoints())["1"] === 2, "all three events checkpointed");
    expect(queue.messages).toHaveLength(0);
    const skipped = harness.results.reduce<Record<string, number>>((all, result) => {
      for (const [reason, count] of Object.entries(result.stats.skipped))
        all[reason] = (all[reason] ?? 0) + (count ?? 0);
      return all;
    }, {});
    expect(skipped).toEqual({ "not-json": 1, "unknown-shape": 1, "other-operation": 1 });
  });
});
