#!/usr/bin/env node
// End to end through the local stack (`npm start`'s): latency from an event entering the Event Hub
// to its scan being recorded, p50 and p99, at 10 and 100 events per second, with the 0 ms
// qscanner simulator; and the peak memory (RSS) of every process. One distinct image per event,
// so every event costs an ARM lookup, a request, a scan and a record. Bounded in events and time;
// prints numbers, asserts nothing.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TableClient } from "@azure/data-tables";
import { EventHubProducerClient } from "@azure/event-hubs";
import { HISTORY_TIMELINE_PARTITION } from "@qcs/recorder/scanRecords";
import { ENTITY_DEFAULTS } from "@qcs/shared";
import { DEFAULT_PORTS, type DevPorts } from "../cli/src/dev/core/portPlan.ts";
import { startDevStack } from "../cli/src/dev/devStack.ts";

const SUBSCRIPTION = "5d2a3c1e-0b9f-4e8d-a7c6-3f1e2d4c5b6a";
/** `rate:seconds` pairs; 1 event/s first shows the latency of a pipeline that is not saturated. */
const PHASES = (process.env.BENCH_PHASES ?? "1:10,10:30,100:5").split(",").map((phase) => {
  const [rate, seconds] = phase.split(":").map(Number);
  return { rate: rate as number, seconds: seconds as number };
});
/** After the last event of a phase, how long its scans may take to be recorded. */
const DRAIN_BOUND_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 240) * 1000;

const groupId = (phase: number, index: number) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-bench/providers/Microsoft.ContainerInstance/containerGroups/ci-${phase}-${index}`;
const imageOf = (phase: number, index: number) => `bench.example/phase${phase}/app${index}:1.0`;

function containerGroup(phase: number, index: number) {
  return {
    id: groupId(phase, index),
    name: `ci-${phase}-${index}`,
    type: "Microsoft.ContainerInstance/containerGroups",
    location: "westeurope",
    properties: {
      provisioningState: "Succeeded",
      osType: "Linux",
      containers: [
        {
          name: "app",
          properties: { image: imageOf(phase, index), resources: { requests: { cpu: 1, memoryInGB: 1 } } },
        },
      ],
    },
  };
}

function writeEvent(phase: number, index: number) {
  const id = groupId(phase, index);
  return {
    id: `00000000-0000-4000-8000-${String(phase * 1_000_000 + index).padStart(12, "0")}`,
    topic: `/subscriptions/${SUBSCRIPTION}`,
    subject: id,
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: new Date().toISOString(),
    data: {
      resourceUri: id,
      operationName: "Microsoft.ContainerInstance/containerGroups/write",
      status: "Succeeded",
      subscriptionId: SUBSCRIPTION,
      correlationId: `11111111-2222-4333-8444-${String(phase * 1_000_000 + index).padStart(12, "0")}`,
    },
    dataVersion: "2",
    metadataVersion: "1",
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** CPU a process and its waited-for children used so far (/proc/<pid>/stat utime..cstime, ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0) * 10;
}

/** Every process of the stack, this one included (brokers, ARM, the resident qscanner simulator). */
const stackProcesses = () => [...stack.processes(), { name: "this process", pid: process.pid }];

const dataDir = await mkdtemp(join(tmpdir(), "qcs-bench-e2e-"));
const inventory = join(dataDir, "inventory.json");
await writeFile(
  inventory,
  JSON.stringify(
    PHASES.flatMap(({ rate, seconds }, phase) =>
      Array.from({ length: rate * seconds }, (_, index) => containerGroup(phase, index)),
    ),
  ),
);
const ports = Object.fromEntries(Object.keys(DEFAULT_PORTS).map((key) => [key, 0])) as unknown as DevPorts;
const stop = new AbortController();
const stack = await startDevStack({
  host: "127.0.0.1",
  ports,
  inventory,
  dataDir,
  persist: false,
  env: { ...process.env, LOG_LEVEL: "warn", RECORDER_API_KEY: undefined },
  recorderApiKey: "bench-recorder-api-key-of-32-characters",
  logFormat: "json",
  writeLine: (line) => {
    if (/"level":(50|60)/.test(line)) console.error(line);
  },
  paint: (name) => name,
  say: () => {},
  // A restarted service would distort the measurement: any crash ends the run.
  onRestart: (name, status) => {
    console.error(`${name} exited: ${JSON.stringify(status)}`);
    stop.abort();
  },
  onUnexpectedExit: (name, status) => {
    console.error(`${name} exited: ${JSON.stringify(status)}`);
    stop.abort();
  },
  signal: stop.signal,
});
console.log(
  `stack on this machine: scanner ${stack.scanner.kind} (0 ms), SCANNER_CONCURRENCY ${process.env.SCANNER_CONCURRENCY ?? "2 (default)"}, one distinct image per event`,
);

const producer = new EventHubProducerClient(
  stack.scanctlEnv.EVENTHUBS_CONNECTION_STRING as string,
  ENTITY_DEFAULTS.EVENTHUB_NAME,
);
const history = TableClient.fromConnectionString(
  stack.scanctlEnv.STORAGE_CONNECTION_STRING as string,
  ENTITY_DEFAULTS.SCAN_HISTORY_TABLE,
  { allowInsecureConnection: true },
);

/** When each image's result was written (the Table service's own timestamp), by requested reference. */
async function recordedAt(): Promise<Map<string, number>> {
  const recorded = new Map<string, number>();
  const rows = history.listEntities<{ Registry: string; Repository: string; Tag?: string }>({
    queryOptions: {
      filter: `PartitionKey eq '${HISTORY_TIMELINE_PARTITION}'`,
      select: ["Registry", "Repository", "Tag", "Timestamp"],
    },
  });
  for await (const row of rows) {
    if (row.timestamp)
      recorded.set(`${row.Registry}/${row.Repository}:${row.Tag}`, Date.parse(row.timestamp));
  }
  return recorded;
}

/** p50 and p99 in ms by events per second, for the last line. */
const summary = new Map<number, { p50: number; p99: number }>();
try {
  for (const [phase, { rate, seconds }] of PHASES.entries()) {
    const total = rate * seconds;
    const cpuBefore = new Map(stackProcesses().map(({ name, pid }) => [name, cpuMsOf(pid)]));
    const sentAt = new Map<string, number>();
    const start = performance.now() + 50;
    const wallStart = Date.now() + 50;
    for (let index = 0; index < total && !stop.signal.aborted; index += 1) {
      const due = start + (index * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const batch = await producer.createBatch();
      batch.tryAdd({ body: writeEvent(phase, index), contentType: "application/json" });
      await producer.sendBatch(batch);
      sentAt.set(imageOf(phase, index), Date.now());
    }
    const sendSeconds = (Date.now() - wallStart) / 1000;

    const deadline = Date.now() + DRAIN_BOUND_MS;
    let recorded = await recordedAt();
    const mine = () => [...sentAt.keys()].filter((image) => recorded.has(image)).length;
    while (mine() < total && Date.now() < deadline && !stop.signal.aborted) {
      await sleep(1000);
      recorded = await recordedAt();
    }
    const latencies = [...sentAt]
      .filter(([image]) => recorded.has(image))
      .map(([image, sent]) => (recorded.get(image) as number) - sent)
      .sort((a, b) => a - b);
    summary.set(rate, { p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
    const lastRecorded = Math.max(...[...sentAt.keys()].map((image) => recorded.get(image) ?? 0));
    console.log(
      `${rate} events/s for ${seconds} s (${total} events, sent in ${sendSeconds.toFixed(1)} s): ` +
        `${latencies.length}/${total} recorded${latencies.length < total ? ` within ${DRAIN_BOUND_MS / 1000} s of the last send` : ""}, ` +
        `latency p50 ${(percentile(latencies, 50) / 1000).toFixed(2)} s, p99 ${(percentile(latencies, 99) / 1000).toFixed(2)} s, ` +
        `max ${((latencies.at(-1) ?? Number.NaN) / 1000).toFixed(2)} s; ` +
        `throughput ${(latencies.length / ((lastRecorded - wallStart) / 1000)).toFixed(1)} scans recorded/s`,
    );
    const cpu = stackProcesses().map(
      ({ name, pid }) => `${name} ${((cpuMsOf(pid) - (cpuBefore.get(name) ?? 0)) / total).toFixed(0)}`,
    );
    console.log(`  CPU ms per event (children included: the scanner's qscanner runs): ${cpu.join(", ")}`);
  }
  const peaks = stack
    .processes()
    .map(({ name, pid }) => `${name} ${peakRssMiB(pid).toFixed(0)} MiB`)
    .join(", ");
  console.log(
    `peak RSS: ${peaks}, this process (emulators, ARM, watcher) ${(peakRssMiB(process.pid)).toFixed(0)} MiB`,
  );
  const at = (rate: number) => {
    const { p50, p99 } = summary.get(rate) ?? { p50: Number.NaN, p99: Number.NaN };
    return `${rate}/s p50 ${p50.toFixed(0)} p99 ${p99.toFixed(0)}`;
  };
  console.log(`e2e: ${at(10)}; ${at(100)}`);
} finally {
  await producer.close();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
