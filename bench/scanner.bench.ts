// Scanner throughput on one replica, over loopback: the Service Bus emulator, Azurite (cache
// lookups) and the qscanner simulator as a real child process per scan (the resident simulator's
// client; its CPU per run is measured first, beside the standalone Node simulator, an empty
// `node -e 0` and `sh -c true`).
//  1. pipeline overhead: a 0 ms simulator, requests per second at concurrency 2 (the default) and 16,
//     against the same number of simulator runs alone at the same concurrency (the overhead ratio);
//  2. a 2 s simulator at concurrency 1, 4 and 16, against the ideal of concurrency / 2 s.
// Bounded: a fixed number of requests per run and a deadline per run. Prints numbers, asserts nothing.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  startAzurite,
  startQscannerSimulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
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
  // Enough waves that the receiver's start (about a second) is not a sixth of the run.
  { name: "slow-c1", concurrency: 1, delayMs: 2000, requests: 8 },
  { name: "slow-c4", concurrency: 4, delayMs: 2000, requests: 24 },
  { name: "slow-c16", concurrency: 16, delayMs: 2000, requests: 80 },
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
const [emulator, azurite, simulator] = await Promise.all([
  startServiceBusEmulator({ config }),
  startAzurite(),
  startQscannerSimulator(),
]);
const client = new ServiceBusClient(emulator.connectionString);
const table = TableClient.fromConnectionString(azurite.connectionString, "ScanMetadata", {
  allowInsecureConnection: true,
});
await table.createTable();
const logger = createLogger({ name: "scanner-bench", level: "warn", format: "json" });
const runner = new QscannerProcessRunner({
  executable: simulator.path,
  env: qscannerEnvironment({ ...process.env, TMPDIR: tempRoot }, "bench-token-value", "qscanner"),
  tempRoot,
});

await simulatorCpu();
console.log(
  "run            concurrency  sim delay  requests  seconds  scans/s  ideal/s  of ideal  CPU/scan (this process + children)",
);
const results = new Map<string, number>();
try {
  for (const run of RUNS) results.set(run.name, await measure(run));
  const ratios = [];
  for (const run of RUNS.filter((candidate) => candidate.delayMs === 0)) {
    const alone = await simulatorAloneRate(run.concurrency, run.requests);
    const ratio = (results.get(run.name) ?? 0) / alone;
    ratios.push(ratio);
    console.log(
      `simulator alone at concurrency ${run.concurrency}: ${alone.toFixed(1)} runs/s; scanner ${ratio.toFixed(2)} of it`,
    );
  }
  const ofIdeal = (name: string) => `${Math.round(100 * (results.get(name) ?? 0))}%`;
  console.log(
    `scanner: c1 ${ofIdeal("slow-c1")} c4 ${ofIdeal("slow-c4")} c16 ${ofIdeal("slow-c16")} of ideal; overhead ratio ${Math.min(...ratios).toFixed(2)}`,
  );
} finally {
  await client.close();
  await emulator.close();
  await azurite.stop();
  await simulator.close();
  rmSync(tempRoot, { recursive: true, force: true });
}
// Something in the stack keeps a timer after every client is closed; a benchmark need not wait for it.
process.exit(0);

/**
 * CPU per run (user + system, this process and its waited-for children, so the resident
 * simulator's own work counts), one kind after another, in rounds so that load changes hit each.
 */
async function simulatorCpu(): Promise<void> {
  const runs = 20;
  const outputDir = join(tempRoot, "cpu");
  const scan = ["--pod", "US2", "--report-format", "sarif", "--output-dir", outputDir, "image"];
  const kinds: Array<[string, string, (index: number) => string[]]> = [
    ["resident simulator client", simulator.path, (index) => [...scan, `bench/cpu:r${index}`]],
    ["standalone simulator (Node)", qscannerSimulatorPath, (index) => [...scan, `bench/cpu:s${index}`]],
    ["node -e 0", process.execPath, () => ["-e", "0"]],
    ["sh -c true", "/bin/sh", () => ["-c", "true"]],
  ];
  // The standalone simulator's `#!/usr/bin/env node` must find this Node.
  const env = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    QUALYS_ACCESS_TOKEN: "bench-token-value",
    TMPDIR: tempRoot,
  };
  const totals = new Map<string, number>();
  for (let round = 0; round < 2; round += 1) {
    for (const [name, executable, args] of kinds) {
      const before = cpuMs();
      for (let index = 0; index < runs / 2; index += 1) {
        await new Promise<void>((resolve, reject) =>
          execFile(executable, args(round * runs + index), { env }, (error) =>
            error ? reject(error) : resolve(),
          ),
        );
      }
      totals.set(name, (totals.get(name) ?? 0) + cpuMs() - before);
    }
  }
  for (const [name] of kinds)
    console.log(`CPU per run, ${name}: ${((totals.get(name) ?? 0) / runs).toFixed(0)} ms`);
}

/** This process' CPU and its waited-for children's (/proc/self/stat utime..cstime, in clock ticks of 10 ms). */
function cpuMs(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0) * 10;
}

/** What the qscanner-simulator children cost by themselves: the floor under every scan below. */
async function simulatorAloneRate(concurrency: number, runs: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < runs; index = next++) {
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
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return runs / ((performance.now() - started) / 1000);
}

/** Scans per second; for a slow simulator, the fraction of the ideal instead. */
async function measure(run: Run): Promise<number> {
  const telemetry = startTelemetry({ serviceName: "scanner-bench", env: {} });
  const service = createScannerService({
    serviceBus: client,
    queueName: `requests-${run.name}`,
    sweepQueueName: `requests-${run.name}-sweep`,
    maxPriorityStreak: 10,
    topicName: `completed-${run.name}`,
    cache: new TableScanCacheReader(table),
    // No registry here: tags are scanned as named.
    digests: { digestOf: async () => undefined },
    registryAuth: selfAuthenticatingRegistries,
    qscanner: runner,
    meter: telemetry.meter,
    logger,
    redact: (text) => text,
    concurrency: run.concurrency,
    handler: {
      pod: "US2",
      cacheMs: 24 * 3_600_000,
      rescanOnScannerUpgrade: true,
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
  const cpuBefore = cpuMs();
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
  const cpuPerScan = (cpuMs() - cpuBefore) / Math.max(received, 1);
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
      `${cpuPerScan.toFixed(0)} ms`.padStart(10),
      failed > 0 ? `  (${failed} not succeeded)` : "",
    ].join(" "),
  );
  return ideal ? rate / ideal : rate;
}
