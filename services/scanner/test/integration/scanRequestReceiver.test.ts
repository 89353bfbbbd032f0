// The scanner's receiver alone against the Service Bus emulator: settlement when the lock is already
// gone by the time a scan ends, or when the broker never confirms it.
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusEmulator } from "@qcs/emulators";
import { createLogger } from "@qcs/shared/runtime";
import { TcpRelay, waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ScanRequestReceiver } from "../../src/adapters/serviceBus/scanRequestReceiver.ts";
import type { ScanDelivery, Settlement } from "../../src/core/handleScanRequest.ts";
import { emulatorConfig, scanRequest, TestEntities, uniqueTag } from "../support/serviceBusHarness.ts";

let emulator: Awaited<ReturnType<typeof startServiceBusEmulator>>;
let client: ServiceBusClient;
const logLines: string[] = [];
const logger = createLogger({
  name: "receiver-test",
  level: "info",
  format: "json",
  destination: { write: (line: string) => void logLines.push(line) },
});
const noMetrics = { lockRenewed() {}, lockRenewalFailed() {}, inFlightChanged() {} };

beforeAll(async () => {
  emulator = await startServiceBusEmulator({
    config: emulatorConfig({ lockLost: { lockDuration: "PT2S" }, unconfirmed: { lockDuration: "PT2S" } }),
  });
  client = new ServiceBusClient(emulator.connectionString);
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
});

describe("scan request receiver", () => {
  it("withdraws a scheduled retry when the original cannot be completed, so the request is handled once more, not twice", async () => {
    const entities = new TestEntities(client, "lockLost");
    const receiver = client.createReceiver(entities.queue, { maxAutoLockRenewalDurationInMs: 0 });
    const retrySender = client.createSender(entities.queue);
    const sweepReceiver = client.createReceiver(entities.sweepQueue, { maxAutoLockRenewalDurationInMs: 0 });
    const deliveries: Array<{ deliveryCount: number; priorAttempts: number }> = [];
    const handle = async (delivery: ScanDelivery): Promise<Settlement> => {
      deliveries.push({ deliveryCount: delivery.deliveryCount, priorAttempts: delivery.priorAttempts });
      if (deliveries.length === 1) {
        // A scan that outlives its 2 s lock (no renewal here), then fails in a retryable way.
        await sleep(2600);
        return { action: "retry", attempt: 1, delayMs: 1000, failureClass: "ScannerFailed" };
      }
      return { action: "complete", outcome: "succeeded" };
    };
    const scanRequests = new ScanRequestReceiver({
      queues: {
        deployment: { receiver, retrySender },
        sweep: { receiver: sweepReceiver, retrySender: entities.sweepSender },
      },
      handle,
      concurrency: 1,
      maxPriorityStreak: 10,
      maxLockRenewalMs: 0,
      metrics: noMetrics,
      logger,
    });
    try {
      await entities.send(scanRequest(`registry.example.com/team/app:${uniqueTag("locklost")}`));
      scanRequests.start();
      // The original is redelivered once its lock expires; a copy scheduled 1 s after the failed
      // complete would arrive within the next seconds had it not been withdrawn.
      await waitFor(() => deliveries.length >= 2, "the redelivery of the original", 15_000).catch(
        () => undefined,
      );
      await sleep(2500);
      expect(deliveries.map(({ deliveryCount, priorAttempts }) => [deliveryCount, priorAttempts])).toEqual([
        [0, 0],
        [1, 0],
      ]);
      expect(await entities.queueDrained()).toBe(true);
      expect(logLines.some((line) => line.includes("settling failed"))).toBe(true);
    } finally {
      await scanRequests.stopReceiving();
      await scanRequests.idle();
      await receiver.close();
      await sweepReceiver.close();
      await retrySender.close();
      await entities.close();
    }
  });

  it("gives up a settlement the broker never confirms once the lock is past, freeing the slot; the broker redelivers", async () => {
    const entities = new TestEntities(client, "unconfirmed");
    // The scanner's client reaches the broker through a relay that stops forwarding as the scan ends,
    // so its completion never arrives (as when the SDK has closed the link it was received on).
    const relay = new TcpRelay({ host: "127.0.0.1", port: emulator.port });
    await relay.start();
    const stalled = new ServiceBusClient(
      emulator.connectionString.replace(`:${emulator.port}`, `:${relay.port}`),
    );
    const options = { maxAutoLockRenewalDurationInMs: 0 };
    const scanRequests = new ScanRequestReceiver({
      queues: {
        deployment: {
          receiver: stalled.createReceiver(entities.queue, options),
          retrySender: stalled.createSender(entities.queue),
        },
        sweep: {
          receiver: stalled.createReceiver(entities.sweepQueue, options),
          retrySender: stalled.createSender(entities.sweepQueue),
        },
      },
      handle: async () => {
        relay.hold();
        return { action: "complete", outcome: "succeeded" };
      },
      concurrency: 1,
      maxPriorityStreak: 10,
      maxLockRenewalMs: 0,
      metrics: noMetrics,
      logger,
    });
    const redelivered = client.createReceiver(entities.queue);
    try {
      await entities.send(scanRequest(`registry.example.com/team/app:${uniqueTag("unconfirmed")}`));
      scanRequests.start();
      await waitFor(() => relay.held.length > 0, "the completion held by the relay", 15_000);
      await scanRequests.stopReceiving();
      // The slot is freed although the completion is still held, and the broker redelivers.
      await scanRequests.idle();
      expect(relay.held.length).toBeGreaterThan(0);
      expect(logLines.some((line) => line.includes("settlement not confirmed by the broker"))).toBe(true);
      // The scanner's connection drops; the broker hands the message to another receiver.
      relay.refuse();
      relay.cut();
      const [again] = await redelivered.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
      expect(again?.deliveryCount).toBe(1);
      if (again) await redelivered.completeMessage(again);
    } finally {
      await redelivered.close();
      relay.refuse();
      relay.cut();
      // Its client may keep reconnecting to a relay that refuses: closing it is not waited out.
      await Promise.race([stalled.close().catch(() => undefined), sleep(2_000)]);
      await relay.close();
      await entities.close();
    }
  });
});
