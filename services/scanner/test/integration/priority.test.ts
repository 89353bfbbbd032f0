// Deployment requests before sweep requests (issue 22): the scanner service over the Service Bus
// emulator with the official SDK and the qscanner simulator as a real child process.
import { ServiceBusClient } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  type RunningServiceBusEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { APP_PROPERTY } from "@qcs/shared";
import { createLogger, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfAuthenticatingRegistries } from "../../src/adapters/acr/acrRegistryAuth.ts";
import { QscannerProcessRunner, qscannerEnvironment } from "../../src/adapters/qscanner/processRunner.ts";
import type { ScanCacheReader } from "../../src/core/ports.ts";
import { createScannerService, type ScannerService } from "../../src/scannerService.ts";
import { emulatorConfig, scanRequest, TestEntities, uniqueTag } from "../support/serviceBusHarness.ts";

const logger = createLogger({ name: "priority-test", level: "silent" });
const neverScanned: ScanCacheReader = { lastSuccessfulScan: async () => undefined };
const SWEEP_BACKLOG = 12;

let emulator: RunningServiceBusEmulator;
let client: ServiceBusClient;
let telemetry: Telemetry;

beforeAll(async () => {
  emulator = await startServiceBusEmulator({ config: emulatorConfig({ overtake: {}, sweepRetry: {} }) });
  client = new ServiceBusClient(emulator.connectionString);
  telemetry = startTelemetry({ serviceName: "priority-test", env: {} });
});

afterAll(async () => {
  await client?.close();
  await telemetry?.shutdown();
  await emulator?.close();
});

function scanner(entities: TestEntities, retryBaseDelayMs: number): ScannerService {
  return createScannerService({
    serviceBus: client,
    queueName: entities.queue,
    sweepQueueName: entities.sweepQueue,
    maxPriorityStreak: 10,
    topicName: entities.topic,
    cache: neverScanned,
    registryAuth: selfAuthenticatingRegistries,
    qscanner: new QscannerProcessRunner({
      executable: qscannerSimulatorPath,
      env: qscannerEnvironment(process.env, "priority-token"),
    }),
    meter: telemetry.meter,
    logger,
    redact: (text) => text,
    concurrency: 2,
    handler: {
      pod: "US2",
      cacheMs: 0,
      scanTimeoutMs: 20_000,
      retryBaseDelayMs,
      scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
      sendTargetInfo: false,
      allowedPrivateRegistries: [],
    },
  });
}

function sweepRequest(ref: string) {
  const resourceId =
    "/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg-test/providers/Microsoft.App/containerApps/swept";
  return scanRequest(ref, {
    sources: [
      {
        kind: "sweep",
        resourceId,
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg-test",
        resourceName: "swept",
      },
    ],
  });
}

/** What `queue` holds (active and scheduled); a fresh receiver, as a receiver's peek continues after what it peeked last. */
async function peek(queue: string) {
  const peeker = client.createReceiver(queue);
  try {
    return await peeker.peekMessages(10);
  } finally {
    await peeker.close();
  }
}

async function stop(service: ScannerService, entities: TestEntities): Promise<void> {
  await service.stopIntake();
  await service.drain(AbortSignal.timeout(5000));
  await service.close();
  await entities.close();
}

describe("deployment requests before sweep requests", () => {
  it("a deployment request overtakes a queued sweep backlog, and the sweep backlog still completes", async () => {
    const entities = new TestEntities(client, "overtake");
    const sweep = Array.from({ length: SWEEP_BACKLOG }, () =>
      sweepRequest(`registry.example.com/sweep/app:${uniqueTag("slow1000")}`),
    );
    await entities.sendSweep(sweep);
    const service = scanner(entities, 100);
    try {
      service.start();
      // The sweep has the scanner to itself until its first scan ends; then a deployment arrives.
      await entities.completedFor(sweep[0]?.requestId ?? "", 1, 30_000);
      const deployment = scanRequest(`registry.example.com/team/app:${uniqueTag("slow1000")}`);
      await entities.send(deployment);

      const [deployed] = await entities.completedFor(deployment.requestId, 1, 60_000);
      const swept = [];
      for (const request of sweep) swept.push(...(await entities.completedFor(request.requestId, 1, 60_000)));

      expect(deployed?.status).toBe("succeeded");
      expect(swept.map((scan) => scan.status)).toEqual(Array(SWEEP_BACKLOG).fill("succeeded"));
      // In FIFO order every sweep scan would start first; here the deployment takes the next free
      // slot, so at most the two running scans, their two successors and one pull under way precede it.
      const startedBefore = swept.filter((scan) => scan.startedAt < (deployed?.startedAt ?? "")).length;
      expect(startedBefore).toBeLessThanOrEqual(5);
      expect(await entities.queueDrained()).toBe(true);
    } finally {
      await stop(service, entities);
    }
  });

  it("schedules the retry of a sweep request on the sweep queue, not the deployment queue", async () => {
    const entities = new TestEntities(client, "sweepRetry");
    // Fails once (ScannerFailed: retried after one delay unit), a unit long enough to see the copy wait.
    const request = sweepRequest(`registry.example.com/sweep/app:${uniqueTag("crash-first1")}`);
    await entities.sendSweep([request]);
    const service = scanner(entities, 60_000);
    try {
      service.start();
      const [copy] = await waitFor(
        async () => {
          const peeked = await peek(entities.sweepQueue);
          return peeked.filter((message) => message.applicationProperties?.[APP_PROPERTY.attempt] === 1);
        },
        "a scheduled retry copy on the sweep queue",
        { until: (copies) => copies.length === 1, timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(copy?.state).toBe("scheduled");
      expect(await peek(entities.queue)).toEqual([]);
    } finally {
      await stop(service, entities);
    }
  });
});
