// The scanner's receiver alone against the Service Bus emulator: settlement when the lock is already
// gone by the time a scan ends.
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusEmulator } from "@qcs/emulators";
import { createLogger } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
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
    config: emulatorConfig({ lockLost: { lockDuration: "PT2S" } }),
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
});
