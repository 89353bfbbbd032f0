// Deployment latency during a sweep (issue 22): one scanner replica at concurrency 16 with a 2 s
// qscanner simulator, 2,000 sweep requests queued on scan-requests-sweep, then 20 deployment
// requests, one every 1.5 s. For each: time from its send to its scan starting (the startedAt of
// its ScanCompleted, same clock). Without the second queue it would wait behind the whole backlog,
// about 2,000 × 2 s / 16 = 250 s.
//
// The deployment requests are sent straight to scan-requests rather than as events through the
// hub and ingest: ingest's part (parse, ARM lookup, send) is the same with or without a sweep and
// is measured by ingest.bench.ts and e2e.bench.ts; this isolates the queueing the issue is about.
// Over loopback: the Service Bus emulator with the project's Config.json, Azurite for the cache
// lookups, the simulator as a real child process per scan. Prints numbers, asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import { startAzurite, startQscannerSimulator, startServiceBusEmulator } from "@qcs/emulators";
import {
  buildScanRequestedMessage,
  ENTITY_DEFAULTS,
  parseImageRef,
  parseScanCompletedMessage,
  type ScanCompleted,
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

const SWEEP_REQUESTS = 2_000;
const DEPLOYMENTS = 20;
const DEPLOYMENT_INTERVAL_MS = 1_500;
const CONCURRENCY = 16;
const SCAN_MS = 2_000;
/** Bounds the wait for the last deployment's scan. */
const DEADLINE_MS = 180_000;

const tempRoot = mkdtempSync(join(tmpdir(), "priority-bench-"));
const [emulator, azurite] = await Promise.all([startServiceBusEmulator(), startAzurite()]);
const client = new ServiceBusClient(emulator.connectionString);
const table = TableClient.fromConnectionString(
  azurite.connectionString,
  ENTITY_DEFAULTS.SCAN_METADATA_TABLE,
  {
    allowInsecureConnection: true,
  },
);
await table.createTable();
const simulator = await startQscannerSimulator();
const telemetry = startTelemetry({ serviceName: "priority-bench", env: {} });
const service = createScannerService({
  serviceBus: client,
  queueName: ENTITY_DEFAULTS.SCAN_REQUESTS_QUEUE,
  sweepQueueName: ENTITY_DEFAULTS.SCAN_REQUESTS_SWEEP_QUEUE,
  maxPriorityStreak: 10,
  topicName: ENTITY_DEFAULTS.SCAN_COMPLETED_TOPIC,
  cache: new TableScanCacheReader(table),
  registryAuth: selfAuthenticatingRegistries,
  // Tags are scanned as named: these registries exist only in the benchmark.
  digests: { digestOf: async () => undefined },
  qscanner: new QscannerProcessRunner({
    executable: simulator.path,
    env: qscannerEnvironment({ ...process.env, TMPDIR: tempRoot }, "bench-token-value", "qscanner"),
    tempRoot,
  }),
  meter: telemetry.meter,
  logger: createLogger({ name: "priority-bench", level: "warn", format: "json" }),
  redact: (text) => text,
  concurrency: CONCURRENCY,
  handler: {
    pod: "US2",
    cacheMs: 24 * 3_600_000,
    scanTimeoutMs: 60_000,
    retryBaseDelayMs: 1000,
    scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
    sendTargetInfo: false,
    allowedPrivateRegistries: [],
    rescanOnScannerUpgrade: true,
  },
});
const deploymentSender = client.createSender(ENTITY_DEFAULTS.SCAN_REQUESTS_QUEUE);
const sweepSender = client.createSender(ENTITY_DEFAULTS.SCAN_REQUESTS_SWEEP_QUEUE);
const completed = client.createReceiver(
  ENTITY_DEFAULTS.SCAN_COMPLETED_TOPIC,
  ENTITY_DEFAULTS.RECORDER_SUBSCRIPTION,
  {
    receiveMode: "receiveAndDelete",
  },
);

function request(kind: "sweep" | "manual", name: string): ScanRequested {
  const image = parseImageRef(
    `registry.example.com/bench/${name}:slow${SCAN_MS}-${crypto.randomUUID().slice(0, 8)}`,
  );
  const subscriptionId = "ed6a948b-ba01-4eea-9471-c147cad379eb";
  return {
    schemaVersion: 1,
    requestId: crypto.randomUUID(),
    requestedAt: new Date().toISOString(),
    force: false,
    image,
    sources: [
      kind === "sweep"
        ? {
            kind,
            resourceId: `/subscriptions/${subscriptionId}/resourceGroups/rg-bench/providers/Microsoft.App/containerApps/${name}`,
            subscriptionId,
            resourceGroup: "rg-bench",
            resourceName: name,
          }
        : { kind },
    ],
  };
}

const results = new Map<string, ScanCompleted>();
let collecting = true;
const collector = (async () => {
  while (collecting) {
    for (const message of await completed.receiveMessages(200, { maxWaitTimeInMs: 500 })) {
      const scan = parseScanCompletedMessage(message);
      results.set(scan.requestId, scan);
    }
  }
})();

try {
  const sweep = Array.from({ length: SWEEP_REQUESTS }, (_, index) => request("sweep", `swept${index}`));
  for (let start = 0; start < sweep.length; start += 100) {
    await sweepSender.sendMessages(sweep.slice(start, start + 100).map(buildScanRequestedMessage));
  }
  service.start();
  // Every slot busy with sweep work before the first deployment arrives.
  await sleep(SCAN_MS + 1_000);

  const sent = new Map<string, number>();
  for (let index = 0; index < DEPLOYMENTS; index += 1) {
    const deployment = request("manual", `deployed${index}`);
    sent.set(deployment.requestId, Date.now());
    await deploymentSender.sendMessages(buildScanRequestedMessage(deployment));
    await sleep(DEPLOYMENT_INTERVAL_MS);
  }
  const deadline = Date.now() + DEADLINE_MS;
  while ([...sent.keys()].some((id) => !results.has(id)) && Date.now() < deadline) await sleep(200);
  // Sweep scans that started before the last deployment scan have finished by now.
  await sleep(SCAN_MS + 1_000);

  const latencies = [...sent].flatMap(([id, at]) => {
    const scan = results.get(id);
    return scan ? [Date.parse(scan.startedAt) - at] : [];
  });
  latencies.sort((a, b) => a - b);
  const lastStart = Math.max(...[...sent.keys()].map((id) => Date.parse(results.get(id)?.startedAt ?? "0")));
  const sweepStarted = sweep.filter(
    (r) => Date.parse(results.get(r.requestId)?.startedAt ?? "Infinity") <= lastStart,
  );
  const waiting = SWEEP_REQUESTS - sweepStarted.length;
  const quantile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN;
  console.log(
    `deployment scans started: ${latencies.length} of ${DEPLOYMENTS}; sweep scans started by then: ${sweepStarted.length}`,
  );
  console.log(`latencies (ms): ${latencies.join(" ")}`);
  console.log(
    `priority: p50 ${quantile(0.5)} ms p99 ${quantile(0.99)} ms with ${waiting} sweep requests waiting`,
  );
} finally {
  collecting = false;
  await collector;
  await service.stopIntake();
  await service.drain(AbortSignal.timeout(1000));
  await service.close();
  await deploymentSender.close();
  await sweepSender.close();
  await completed.close();
  await telemetry.shutdown();
  await client.close();
  await emulator.close();
  await azurite.stop();
  await simulator.close();
  rmSync(tempRoot, { recursive: true, force: true });
}
// As in the other benchmarks: something in the stack keeps a timer after every client is closed.
process.exit(0);
