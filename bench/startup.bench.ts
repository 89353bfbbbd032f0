#!/usr/bin/env node
// Start-up of each service as a process, the way KEDA starts a replica from zero: time from spawn
// to /readyz 200 (median of 5) and RSS after 10 s idle, against the emulators and Azurite, beside a
// baseline process that loads the same SDK clients and fastify and listens (support/baselineService.ts).
// Each round starts the services one after another (so their start-ups do not compete for the CPU),
// then reads every RSS once the last has idled 10 s. Services run with the compile cache the local
// stack and the images use, and with the images' NODE_OPTIONS (read from the Dockerfile; the baseline
// too); one extra round without the cache shows what it is worth. Beside them, for comparison only
// (not on the last line): each service bundled into one file (rolldown), and the recorder without
// the images' NODE_OPTIONS.
// Prints numbers, asserts nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  startArmEmulator,
  startAzurite,
  startEventHubsEmulator,
  startQscannerSimulator,
  startRegistryEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { freePort } from "../cli/src/dev/adapters/net/ports.ts";
import { serviceEnv } from "../cli/src/dev/core/serviceEnv.ts";
import { bundleService } from "./support/bundleService.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IDLE_MS = 10_000;
const SERVICES = ["ingest", "scanner", "recorder"] as const;
const PROCESSES = [
  ...SERVICES,
  "baseline",
  ...SERVICES.map((service) => `${service} bundled` as const),
  "recorder default heap",
] as const;
type ProcessName = (typeof PROCESSES)[number];
/** NODE_OPTIONS as the images set it (a smaller young generation). */
const IMAGE_NODE_OPTIONS = /^\s*NODE_OPTIONS=(\S+)/m.exec(
  readFileSync(join(ROOT, "Dockerfile"), "utf8"),
)?.[1];

const dataDir = await mkdtemp(join(tmpdir(), "qcs-bench-startup-"));
const compileCache = join(dataDir, "compile-cache");
const [azurite, serviceBus, eventHubs] = await Promise.all([
  startAzurite(),
  startServiceBusEmulator(),
  startEventHubsEmulator(),
]);
const armToken = "bench-arm-token";
const arm = await startArmEmulator({ inventory: [], token: armToken });
const registry = await startRegistryEmulator({ inventory: [] });
// The scanner runs `qscanner --version` before it is ready: the resident simulator's client answers
// in milliseconds, as the real binary does, where a Node simulator would add its own start-up.
const simulator = await startQscannerSimulator();
const armCaFile = join(dataDir, "arm-ca.pem");
await writeFile(armCaFile, arm.ca);
const bundled = Object.fromEntries(
  await Promise.all(
    SERVICES.map(async (service) => [
      service,
      await bundleService(ROOT, service, join(dataDir, "bundle", service)),
    ]),
  ),
) as Record<(typeof SERVICES)[number], string>;

/** The service a process runs as (its environment), its entry file and NODE_OPTIONS. */
function processOf(name: ProcessName): { service: ProcessName; entry: string; nodeOptions?: string } {
  const nodeOptions = IMAGE_NODE_OPTIONS;
  if (name === "baseline") {
    return { service: "baseline", entry: join(ROOT, "bench", "support", "baselineService.ts"), nodeOptions };
  }
  if (name === "recorder default heap") {
    return { service: "recorder", entry: join(ROOT, "services/recorder/src/main.ts") };
  }
  const [service, variant] = name.split(" ") as [(typeof SERVICES)[number], string | undefined];
  const entry = variant ? bundled[service] : join(ROOT, "services", service, "src", "main.ts");
  return { service, entry, nodeOptions };
}

async function envOf(name: ProcessName, cache: boolean): Promise<Record<string, string | undefined>> {
  const env = serviceEnv(process.env, {
    service: name === "baseline" ? "ingest" : (processOf(name).service as (typeof SERVICES)[number]),
    port: await freePort("127.0.0.1"),
    host: "127.0.0.1",
    endpoints: {
      serviceBus: serviceBus.connectionString,
      eventHubs: eventHubs.connectionString,
      storage: azurite.connectionString,
      arm: { endpoint: arm.url, token: armToken, caFile: armCaFile },
      recorderApiKey: "bench-recorder-api-key-of-32-characters!",
      registry: registry.url,
    },
    scanner: { kind: "simulator", path: simulator.path },
    scannerTmpDir: dataDir,
    logFormat: "json",
    nodeDir: dirname(process.execPath),
  });
  return {
    ...env,
    LOG_LEVEL: "warn",
    NODE_COMPILE_CACHE: cache ? compileCache : undefined,
    NODE_OPTIONS: processOf(name).nodeOptions,
  };
}

interface Started {
  child: ChildProcess;
  readyMs: number;
}

async function start(name: ProcessName, cache: boolean): Promise<Started> {
  const env = await envOf(name, cache);
  const { entry } = processOf(name);
  const started = performance.now();
  const child = spawn(process.execPath, [entry], {
    env,
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const url = `http://127.0.0.1:${env.PORT}/readyz`;
  while (child.exitCode === null) {
    const ok = await fetch(url).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return { child, readyMs: performance.now() - started };
    await sleep(5);
  }
  throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
}

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** One round: each process started in turn, then all of them idle until the last has idled 10 s. */
async function round(cache: boolean): Promise<Record<ProcessName, { readyMs: number; rss: number }>> {
  const started: Array<[ProcessName, Started]> = [];
  try {
    for (const name of PROCESSES) started.push([name, await start(name, cache)]);
    await sleep(IDLE_MS);
    return Object.fromEntries(
      started.map(([name, { child, readyMs }]) => [name, { readyMs, rss: rssMiB(child.pid as number) }]),
    ) as Record<ProcessName, { readyMs: number; rss: number }>;
  } finally {
    await Promise.all(started.map(([, { child }]) => stop(child)));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

try {
  // The first run writes the compile cache (as the image build does); it is not counted.
  await round(true);
  const uncached = await round(false);
  const rounds: Array<Awaited<ReturnType<typeof round>>> = [];
  for (let index = 0; index < ROUNDS; index += 1) rounds.push(await round(true));
  console.log(
    "process            ready median (ms)  ready runs (ms)              RSS idle (MB)  no cache: ready, RSS",
  );
  for (const name of PROCESSES) {
    const ready = rounds.map((r) => r[name].readyMs);
    console.log(
      [
        name.padEnd(18),
        median(ready).toFixed(0).padStart(18),
        `  ${ready.map((ms) => ms.toFixed(0)).join(" ")}`.padEnd(29),
        median(rounds.map((r) => r[name].rss))
          .toFixed(0)
          .padStart(13),
        `  ${uncached[name].readyMs.toFixed(0)} ms, ${uncached[name].rss.toFixed(0)} MB`,
      ].join(" "),
    );
  }
  console.log(
    `startup: ${(["ingest", "scanner", "recorder", "baseline"] as const).map((name) => `${name} ${median(rounds.map((r) => r[name].readyMs)).toFixed(0)} ms ${median(rounds.map((r) => r[name].rss)).toFixed(0)} MB`).join("; ")}`,
  );
} finally {
  await arm.close();
  await registry.close();
  await eventHubs.close();
  await serviceBus.close();
  await azurite.stop();
  await simulator.close();
  await rm(dataDir, { recursive: true, force: true });
}
