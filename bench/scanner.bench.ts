// Scanner throughput on one replica, over loopback: the Service Bus emulator, Azurite (cache
// lookups) and the qscanner simulator as a real child process per scan.
//  1. pipeline overhead: a 0 ms simulator, requests per second at concurrency 2 (the default) and 16;
//  2. a 2 s simulator at concurrency 1, 4 and 16, against the ideal of concurrency / 2 s.
// Bounded: a fixed number of requests per run and a deadline per run. Prints numbers, asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import { qscannerSimulatorPath, startAzurite, startServiceBusEmulator } from "@qcs/emulators";
import {
  buildScanRequestedMessage,
  parseImageRef,
  parseScanCompletedMessage,
  type ScanRequested,
} from "@qcs/shared";
import { createLogger, startTelemetry } from "@qcs/shared/runtime";
import { selfAuthenticatingRegistries } from "../services/scanner/src/adapters/acr/acrRegistryAuth.ts";
import {
  QscannerProcessRunner,
  qscannerEnvironment,
} from "../services/scanner/src/adapters/qscanner/processRunner.ts";
import { TableScanCacheReader } from "../services/scanner/src/adapters/tableStorage/scanCacheReader.ts";
import { createScannerService } from "../services/scanner/src/scannerService.ts";

interface Run {
  name: string;
  concurrency: number;
  delayMs: number;
  requests: number;
}

const RUNS: Run[] = [
  { name: "overhead-c2", concurrency: 2, delayMs: 0, requests: 40 },
  { name: "overhead-c16", concurrency: 16, delayMs: 0, requests: 64 },
  { name: "slow-c1", concurrency: 1, delayMs: 2000, requests: 3 },
  { name: "slow-c4", concurrency: 4, delayMs: 2000, requests: 12 },
  { name: "slow-c16", concurrency: 16, delayMs: 2000, requests: 48 },
];
const RUN_DEADLINE_MS = 120_000;

const config = {
  UserConfig: {
    Namespaces: [
      {
        Name: "sbemulatorns",
        Queues: RUNS.flatMap((run) => [`requests-${run.name}`, `requests-${run.name}-sweep`]).map((name) => ({
          Name: name,
          Properties: { LockDuration: "PT1M", MaxDeliveryCount: 5, RequiresDuplicateDetection: true },
        })),
        Topics: RUNS.map((run) => ({
          Name: `completed-${run.name}`,
          Subscriptions: [{ Name: "recorder", Properties: { LockDuration: "PT1M" }, Rules: [] }],
        })),
      },
    ],
    Logging: { Type: "Console" },
  },
};

const tempRoot = mkdtempSync(join(tmpdir(), "scanner-bench-"));
const [emulator, azurite] = await Promise.all([startServiceBusEmulator({ config }), startAzurite()]);
const client = new ServiceBusClient(emulator.connectionString);
const table = TableClient.fromConnectionString(azurite.connectionString, "ScanMetadata", {
  allowInsecureConnection: true,
});
await table.createTable();
const logger = createLogger({ name: "scanner-bench", level: "warn", format: "json" });
const runner = new QscannerProcessRunner({
  executable: qscannerSimulatorPath,
  env: qscannerEnvironment({ ...process.env, TMPDIR: tempRoot }, "bench-token-value"),
  tempRoot,
});

console.log(
  `simulator process alone (0 ms, sequential): ${(await simulatorAloneMs(10)).toFixed(0)} ms per run`,
);
console.log("run            concurrency  sim delay  requests  seconds  scans/s  ideal/s  of ideal");
try {
  for (const run of RUNS) await measure(run);
} finally {
  await client.close();
  await emulator.close();
  await azurite.stop();
  rmSync(tempRoot, { recursive: true, force: true });
}
// Something in the stack keeps a timer after every client is closed; a benchmark need not wait for it.
process.exit(0);

/** What one qscanner-simulator child costs by itself: the floor under every scan below. */
async function simulatorAloneMs(runs: number): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < runs; index += 1) {
    await runner.run({
      args: (outputDir) => [
        "--pod",
        "US2",
        "--report-format",
        "sarif",
        "--output-dir",
        outputDir,
        "image",
        `registry.example.com/bench/alone:slow0-${index}`,
      ],
      env: {},
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      collect: () => true,
    });
  }
  return (performance.now() - started) / runs;
}

async function measure(run: Run): Promise<void> {
  const telemetry = startTelemetry({ serviceName: "scanner-bench", env: {} });
  const service = createScannerService({
    serviceBus: client,
    queueName: `requests-${run.name}`,
    sweepQueueName: `requests-${run.name}-sweep`,
    maxPriorityStreak: 10,
    topicName: `completed-${run.name}`,
    cache: new TableScanCacheReader(table),
    registryAuth: selfAuthenticatingRegistries,
    qscanner: runner,
    meter: telemetry.meter,
    logger,
    redact: (text) => text,
    concurrency: run.concurrency,
    handler: {
      pod: "US2",
      cacheMs: 24 * 3_600_000,
      scanTimeoutMs: 60_000,
      retryBaseDelayMs: 1000,
      scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
      sendTargetInfo: false,
      allowedPrivateRegistries: [],
    },
  });
  const sender = client.createSender(`requests-${run.name}`);
  const completed = client.createReceiver(`completed-${run.name}`, "recorder", {
    receiveMode: "receiveAndDelete",
  });
  const requests: ScanRequested[] = Array.from({ length: run.requests }, (_, index) => ({
    schemaVersion: 1,
    requestId: crypto.randomUUID(),
    requestedAt: new Date().toISOString(),
    force: false,
    image: parseImageRef(
      `registry.example.com/bench/app${index}:slow${run.delayMs}-${crypto.randomUUID().slice(0, 8)}`,
    ),
    sources: [{ kind: "manual" }],
  }));
  // Queue everything first, then start the replica: the measurement is the scanner, not the producer.
  for (let start = 0; start < requests.length; start += 50) {
    await sender.sendMessages(requests.slice(start, start + 50).map(buildScanRequestedMessage));
  }
  const started = performance.now();
  service.start();
  let received = 0;
  let failed = 0;
  const deadline = started + RUN_DEADLINE_MS;
  while (received < run.requests && performance.now() < deadline) {
    for (const message of await completed.receiveMessages(100, { maxWaitTimeInMs: 500 })) {
      received += 1;
      if (parseScanCompletedMessage(message).status !== "succeeded") failed += 1;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await service.stopIntake();
  await service.drain(AbortSignal.timeout(5000));
  await service.close();
  await sender.close();
  await completed.close();
  await telemetry.shutdown();

  const rate = received / seconds;
  const ideal = run.delayMs > 0 ? run.concurrency / (run.delayMs / 1000) : undefined;
  console.log(
    [
      run.name.padEnd(14),
      String(run.concurrency).padStart(11),
      `${run.delayMs} ms`.padStart(10),
      `${received}/${run.requests}`.padStart(9),
      seconds.toFixed(1).padStart(8),
      rate.toFixed(2).padStart(8),
      (ideal ? ideal.toFixed(2) : "-").padStart(8),
      (ideal ? `${Math.round((100 * rate) / ideal)}%` : "-").padStart(9),
      failed > 0 ? `  (${failed} not succeeded)` : "",
    ].join(" "),
  );
}
