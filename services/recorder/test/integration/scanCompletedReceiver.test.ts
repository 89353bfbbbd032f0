import { ServiceBusClient, type ServiceBusMessage } from "@azure/service-bus";
import { type RunningAzurite, type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { buildScanCompletedMessage, imageRecordKeys, parseImageRef, type ScanCompleted } from "@qcs/shared";
import { createLogger, ServiceLifecycle, startTelemetry } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ScanCompletedReceiver } from "../../src/adapters/serviceBus/scanCompletedReceiver.ts";
import type { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import {
  createScanCompletedHandler,
  type ScanCompletedHandler,
  type StorageRetryPolicy,
} from "../../src/core/handleScanCompleted.ts";
import type { RecordOutcome, ScanRecordWriter } from "../../src/core/ports.ts";
import { tableRecords } from "../support/azurite.ts";
import { completedScan, failedScan } from "../support/scans.ts";

const TOPIC = "scan-completed";
const SUBSCRIPTION = "recorder";
const logger = createLogger({ name: "recorder-test", level: "silent" });
const telemetry = startTelemetry({ serviceName: "recorder-test", env: {} });

class CountingMetrics {
  handled: Array<[string, RecordOutcome]> = [];
  retries = 0;
  deadLetters: string[] = [];
  resultHandled(status: string, outcome: RecordOutcome) {
    this.handled.push([status, outcome]);
  }
  storageRetried() {
    this.retries += 1;
  }
  deadLettered(reason: string) {
    this.deadLetters.push(reason);
  }
}

/** Fails the first `count` storage calls like an unreachable account, then passes through. */
function failingFirst(store: ScanRecordWriter, count: number): ScanRecordWriter {
  let left = count;
  const gate = async () => {
    if (left > 0) {
      left -= 1;
      throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    }
  };
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await gate();
      return call(...args);
    };
  return {
    readMetadata: gated((key) => store.readMetadata(key)),
    createMetadata: gated((entity) => store.createMetadata(entity)),
    replaceMetadata: gated((entity, etag) => store.replaceMetadata(entity, etag)),
    insertHistory: gated((entity) => store.insertHistory(entity)),
  };
}

describe("ScanCompleted receiver (Service Bus emulator, Azurite)", () => {
  let azurite: RunningAzurite;
  let broker: RunningServiceBusEmulator;
  let client: ServiceBusClient;
  const running: ScanCompletedReceiver[] = [];

  beforeAll(async () => {
    [azurite, broker] = await Promise.all([sharedAzurite(), startServiceBusEmulator()]);
    client = new ServiceBusClient(broker.connectionString);
  });
  afterEach(async () => {
    for (const receiver of running.splice(0)) {
      await receiver.stopIntake();
      await receiver.drain(AbortSignal.timeout(5_000));
      await receiver.close();
    }
    // Leave the subscription empty for the next test.
    const drainer = client.createReceiver(TOPIC, SUBSCRIPTION, { receiveMode: "receiveAndDelete" });
    while ((await drainer.receiveMessages(50, { maxWaitTimeInMs: 200 })).length > 0);
    await drainer.close();
  });
  afterAll(async () => {
    await client?.close();
    await broker?.close();
    await azurite?.stop();
    await telemetry.shutdown();
  });

  async function send(...messages: ServiceBusMessage[]) {
    const sender = client.createSender(TOPIC);
    await sender.sendMessages(messages);
    await sender.close();
  }

  const message = (scan: ScanCompleted): ServiceBusMessage => buildScanCompletedMessage(scan);

  function start(handler: ScanCompletedHandler, concurrency = 4) {
    const receiver = new ScanCompletedReceiver({
      client,
      topic: TOPIC,
      subscription: SUBSCRIPTION,
      concurrency,
      handler,
      logger,
      tracer: telemetry.tracer,
      maxLockRenewalMs: 60_000,
    });
    receiver.start();
    running.push(receiver);
    return receiver;
  }

  async function setup(options: { retry?: StorageRetryPolicy; failures?: number } = {}) {
    const { records } = await tableRecords(azurite.connectionString);
    const metrics = new CountingMetrics();
    const handler = createScanCompletedHandler({
      store: failingFirst(records, options.failures ?? 0),
      metrics,
      logger,
      retry: options.retry ?? { initialDelayMs: 20, maxDelayMs: 200, budgetMs: 20_000 },
    });
    return { records, metrics, handler };
  }

  async function deadLetters(count: number) {
    const receiver = client.createReceiver(TOPIC, SUBSCRIPTION, { subQueueType: "deadLetter" });
    const received = [];
    const deadline = Date.now() + 20_000;
    while (received.length < count && Date.now() < deadline) {
      const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1_000 });
      for (const item of batch) await receiver.completeMessage(item);
      received.push(...batch);
    }
    await receiver.close();
    return received;
  }

  async function remaining(): Promise<number> {
    const peeker = client.createReceiver(TOPIC, SUBSCRIPTION);
    const peeked = await peeker.peekMessages(50);
    await peeker.close();
    return peeked.length;
  }

  async function ready(records: TableScanRecords, scan: ScanCompleted) {
    const [key] = imageRecordKeys(scan.image);
    if (!key) throw new Error("no key");
    return records.latestOf(parseImageRef(key.ref));
  }

  it("records results from the subscription and completes them", async () => {
    const { records, metrics, handler } = await setup();
    const older = completedScan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    const newer = failedScan({ finishedAt: "2025-03-14T11:00:00.000Z" });
    await send(message(older), message(newer));
    const receiver = start(handler);
    await expect.poll(() => metrics.handled.length, { timeout: 20_000 }).toBe(2);
    expect(await ready(records, newer)).toMatchObject({
      Status: "failed",
      ScanCount: 2,
      LastScanId: newer.scanId,
    });
    await expect.poll(remaining, { timeout: 10_000 }).toBe(0);
    expect(receiver.ready()).toBe(true);
  });

  it("completes a resubmitted copy of a recorded result without recording it twice", async () => {
    const { records, metrics, handler } = await setup();
    const scan = completedScan();
    // A copy with another messageId (as a resubmission makes) passes the topic's duplicate detection.
    await send(message(scan), { ...message(scan), messageId: `${scan.scanId}-copy` });
    start(handler, 1);
    await expect.poll(() => metrics.handled.length, { timeout: 20_000 }).toBe(2);
    expect(metrics.handled.map(([, outcome]) => outcome)).toEqual(["recorded", "duplicate"]);
    expect(await ready(records, scan)).toMatchObject({ ScanCount: 1 });
    await expect.poll(remaining, { timeout: 10_000 }).toBe(0);
  });

  it("dead-letters invalid messages with reason InvalidMessage and a description naming the problem", async () => {
    const { metrics, handler } = await setup();
    const broken = { ...completedScan(), scanId: "not-a-uuid" };
    await send(
      { body: broken, messageId: "broken-body", subject: "ScanCompleted", contentType: "application/json" },
      { body: "{not json", messageId: "not-json", subject: "ScanCompleted" },
    );
    start(handler);
    const dead = await deadLetters(2);
    expect(dead.map((item) => item.messageId).sort()).toEqual(["broken-body", "not-json"]);
    for (const item of dead) expect(item.deadLetterReason).toBe("InvalidMessage");
    expect(dead.find((item) => item.messageId === "broken-body")?.deadLetterErrorDescription).toContain(
      "scanId",
    );
    expect(metrics.deadLetters).toEqual(["InvalidMessage", "InvalidMessage"]);
  });

  it("retries storage failures while holding the message, then records it; nothing is dead-lettered", async () => {
    const { records, metrics, handler } = await setup({ failures: 4 });
    const scan = completedScan();
    await send(message(scan));
    start(handler);
    await expect.poll(() => metrics.handled.length, { timeout: 20_000 }).toBe(1);
    expect(metrics.retries).toBeGreaterThanOrEqual(1);
    expect(await ready(records, scan)).toMatchObject({ ScanCount: 1 });
    expect(metrics.deadLetters).toEqual([]);
  });

  it("abandons a message when storage stays down past the budget; the redelivery records it", async () => {
    // One attempt writes three history rows at once: three failures fail exactly the first attempt,
    // and a budget shorter than the first back-off abandons right after it.
    const { records, metrics, handler } = await setup({
      failures: 3,
      retry: { initialDelayMs: 10, maxDelayMs: 10, budgetMs: 1 },
    });
    const scan = completedScan();
    await send(message(scan));
    const deliveries: number[] = [];
    start(async (incoming, deadline) => {
      deliveries.push((incoming as { deliveryCount?: number }).deliveryCount ?? 0);
      return handler(incoming, deadline);
    }, 1);
    await expect.poll(() => metrics.handled.length, { timeout: 20_000 }).toBe(1);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]).toBeGreaterThan(deliveries[0] ?? 0);
    expect(metrics.deadLetters).toEqual([]);
    expect(await ready(records, scan)).toMatchObject({ ScanCount: 1 });
  });

  it("handles at most the configured number of messages at once", async () => {
    const { handler } = await setup();
    let inFlight = 0;
    let most = 0;
    let done = 0;
    const limited: ScanCompletedHandler = async (incoming, deadline) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      try {
        return await handler(incoming, deadline);
      } finally {
        inFlight -= 1;
        done += 1;
      }
    };
    await send(
      ...Array.from({ length: 12 }, (_, index) =>
        message(completedScan({ finishedAt: new Date(Date.UTC(2025, 2, 14, 10, index)).toISOString() })),
      ),
    );
    start(limited, 3);
    await expect.poll(() => done, { timeout: 30_000 }).toBe(12);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });

  it("reports not ready while the broker is unreachable", async () => {
    const { handler } = await setup();
    const lonely = await startServiceBusEmulator();
    const lonelyClient = new ServiceBusClient(lonely.connectionString, { retryOptions: { maxRetries: 0 } });
    const receiver = new ScanCompletedReceiver({
      client: lonelyClient,
      topic: TOPIC,
      subscription: SUBSCRIPTION,
      concurrency: 1,
      handler,
      logger,
      tracer: telemetry.tracer,
      maxLockRenewalMs: 60_000,
    });
    try {
      receiver.start();
      expect(receiver.ready()).toBe(true);
      await lonely.close();
      await expect.poll(() => receiver.ready(), { timeout: 20_000 }).toBe(false);
    } finally {
      await receiver.close();
      await lonelyClient.close();
      await lonely.close();
    }
  });

  it("shuts down gracefully: finishes work within the grace period, abandons what would overrun it even when its handler hangs", async () => {
    const { records, metrics, handler } = await setup();
    const quick = completedScan({ finishedAt: "2025-03-14T10:00:00.000Z" });
    const slow = failedScan({
      image: { ...quick.image, tag: "slow" },
      finishedAt: "2025-03-14T11:00:00.000Z",
    });
    let started = 0;
    const receiver = start(async (incoming, deadline) => {
      started += 1;
      const body = incoming.body as ScanCompleted;
      // The slow one never answers and ignores the deadline, as a storage call that hangs does.
      if (body.scanId === slow.scanId) return new Promise<never>(() => {});
      return handler(incoming, deadline);
    }, 2);
    await send(message(quick), message(slow));
    await expect.poll(() => started, { timeout: 20_000 }).toBe(2);

    const lifecycle = new ServiceLifecycle({ logger, graceMs: 500, exit: () => {} });
    lifecycle.onStopIntake(() => receiver.stopIntake());
    lifecycle.onDrain((deadline) => receiver.drain(deadline));
    lifecycle.onClose(() => receiver.close());
    running.splice(running.indexOf(receiver), 1);
    await lifecycle.shutdown("test");

    expect(receiver.ready()).toBe(false);
    expect(metrics.handled).toEqual([["succeeded", "recorded"]]);
    expect(await ready(records, quick)).toMatchObject({ LastScanId: quick.scanId });
    // The abandoned message is back on the subscription at once, not after its lock expires.
    const again = client.createReceiver(TOPIC, SUBSCRIPTION);
    const [redelivered] = await again.receiveMessages(1, { maxWaitTimeInMs: 5_000 });
    expect((redelivered?.body as ScanCompleted | undefined)?.scanId).toBe(slow.scanId);
    if (redelivered) await again.completeMessage(redelivered);
    await again.close();
  });
});
