// A replica whose connection stalls while it publishes a result: its lock expires, another replica
// scans the redelivered request and publishes, then the stalled publish reaches the broker late.
// The request must still end as one successful ScanCompleted (the topic drops the late copy).
import { ServiceBusClient } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  type RunningServiceBusEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { createLogger, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { TcpRelay, waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selfAuthenticatingRegistries } from "../../src/adapters/acr/acrRegistryAuth.ts";
import { QscannerProcessRunner, qscannerEnvironment } from "../../src/adapters/qscanner/processRunner.ts";
import type { QscannerProcess, QscannerRunOptions, ScanCacheReader } from "../../src/core/ports.ts";
import { createScannerService, type ScannerService } from "../../src/scannerService.ts";
import { emulatorConfig, scanRequest, TestEntities, uniqueTag } from "../support/serviceBusHarness.ts";

const logger = createLogger({ name: "late-publish-test", level: "silent" });
const neverScanned: ScanCacheReader = { lastSuccessfulScan: async () => undefined };

let emulator: RunningServiceBusEmulator;
let direct: ServiceBusClient;
let relay: TcpRelay;
let stalling: ServiceBusClient;
let telemetry: Telemetry;

beforeAll(async () => {
  emulator = await startServiceBusEmulator({ config: emulatorConfig({ late: { lockDuration: "PT2S" } }) });
  direct = new ServiceBusClient(emulator.connectionString);
  relay = new TcpRelay({ host: "127.0.0.1", port: emulator.port });
  await relay.start();
  stalling = new ServiceBusClient(emulator.connectionString.replace(`:${emulator.port}`, `:${relay.port}`));
  telemetry = startTelemetry({ serviceName: "late-publish-test", env: {} });
});

afterAll(async () => {
  relay?.release();
  await stalling?.close();
  await direct?.close();
  await relay?.close();
  await telemetry?.shutdown();
  await emulator?.close();
});

function simulator(): QscannerProcessRunner {
  return new QscannerProcessRunner({
    executable: qscannerSimulatorPath,
    env: qscannerEnvironment(process.env, "late-publish-token"),
  });
}

function replica(
  client: ServiceBusClient,
  entities: TestEntities,
  qscanner: QscannerProcess,
): ScannerService {
  return createScannerService({
    serviceBus: client,
    queueName: entities.queue,
    sweepQueueName: entities.sweepQueue,
    maxPriorityStreak: 10,
    topicName: entities.topic,
    cache: neverScanned,
    registryAuth: selfAuthenticatingRegistries,
    qscanner,
    meter: telemetry.meter,
    logger,
    redact: (text) => text,
    concurrency: 1,
    handler: {
      pod: "US2",
      cacheMs: 0,
      scanTimeoutMs: 20_000,
      retryBaseDelayMs: 100,
      scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
      sendTargetInfo: false,
      allowedPrivateRegistries: [],
    },
  });
}

async function stop(service: ScannerService): Promise<void> {
  await service.stopIntake();
  await service.drain(AbortSignal.timeout(5000));
  await service.close();
}

describe("a result published late by a replica that lost its lock", () => {
  it("is dropped: the request is recorded as one successful scan", async () => {
    const entities = new TestEntities(direct, "late");
    let stalledScans = 0;
    // Replica A scans, and its connection stalls the moment the scan ends: its publish hangs.
    const stallingRunner: QscannerProcess = {
      run: async (options: QscannerRunOptions) => {
        const result = await simulator().run(options);
        stalledScans += 1;
        relay.hold();
        return result;
      },
    };
    const first = replica(stalling, entities, stallingRunner);
    let second: ScannerService | undefined;
    try {
      const request = scanRequest(`registry.example.com/team/app:${uniqueTag("late")}`);
      first.start();
      await entities.send(request);
      await waitFor(() => stalledScans === 1, "replica A to finish scanning and stall");

      // Its 2 s lock runs out; replica B gets the redelivered request, scans it and publishes.
      second = replica(direct, entities, simulator());
      second.start();
      const [onTime] = await entities.completedFor(request.requestId, 1, 30_000);
      expect(onTime?.status).toBe("succeeded");

      // A's publish, held all this time, now reaches the broker.
      relay.release();
      await waitFor(() => first.receiver.inFlight === 0, "replica A to finish with the request", 30_000);
      const results = await entities.allCompletedFor(request.requestId, 3000);
      expect(results.map((scan) => scan.status)).toEqual(["succeeded"]);
      expect(relay.held.length).toBeGreaterThan(0);
    } finally {
      relay.release();
      await stop(first);
      if (second) await stop(second);
      await entities.close();
    }
  });
});
