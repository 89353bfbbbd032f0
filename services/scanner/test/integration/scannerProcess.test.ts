// The scanner as its own process (src/main.ts), as it runs in a container: readiness, kill -9 in
// the middle of a scan, and graceful shutdown on SIGTERM.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ServiceBusClient } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  type RunningAzurite,
  type RunningRegistryEmulator,
  startAzurite,
  startRegistryEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { waitFor } from "@qcs/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { emulatorConfig, scanRequest, TestEntities, uniqueTag } from "../support/serviceBusHarness.ts";

const MAIN = join(import.meta.dirname, "..", "..", "src", "main.ts");
const QUIET_QSCANNER = join(import.meta.dirname, "..", "support", "quietQscanner.sh");
const TOKEN = "qualys-process-token-93bd1f20e7";
const ENTITIES = {
  kill: { lockDuration: "PT3S", maxDeliveryCount: 5 },
  drain: { lockDuration: "PT1M" },
  orphan: { lockDuration: "PT1M" },
  idle: { lockDuration: "PT1M" },
};

let emulator: Awaited<ReturnType<typeof startServiceBusEmulator>>;
let azurite: RunningAzurite;
/** Where tags resolve to digests, as a registry would answer the scanner and the simulator. */
let registry: RunningRegistryEmulator;
let client: ServiceBusClient;
let tempRoot: string;

beforeAll(async () => {
  [emulator, azurite, registry] = await Promise.all([
    startServiceBusEmulator({ config: emulatorConfig(ENTITIES) }),
    startAzurite(),
    startRegistryEmulator(),
  ]);
  client = new ServiceBusClient(emulator.connectionString);
  tempRoot = mkdtempSync(join(tmpdir(), "scanner-process-test-"));
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
  await azurite?.stop();
  await registry?.close();
  rmSync(tempRoot, { recursive: true, force: true });
});

/** A request for a new tag of an image the registry serves (a push, as a deployment follows one). */
function servedRequest(words: string) {
  const ref = `registry.example.com/team/app:${uniqueTag(words)}`;
  registry.push(ref);
  return scanRequest(ref);
}

class ScannerProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  port = 0;

  constructor(key: keyof typeof ENTITIES, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: tempRoot,
        TMPDIR: tempRoot,
        SERVICEBUS_CONNECTION_STRING: emulator.connectionString,
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        REGISTRY_API_BASE_URL: registry.url,
        QUALYS_POD: "US2",
        QUALYS_ACCESS_TOKEN: TOKEN,
        QSCANNER_PATH: qscannerSimulatorPath,
        SCAN_REQUESTS_QUEUE: `requests-${key}`,
        SCAN_REQUESTS_SWEEP_QUEUE: `requests-${key}-sweep`,
        SCAN_COMPLETED_TOPIC: `completed-${key}`,
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_FORMAT: "json",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on("line", (line) =>
      this.lines.push(line),
    );
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on("line", (line) =>
      this.lines.push(line),
    );
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Waits for a JSON log line whose `msg` is `message` (after `skip` earlier ones). */
  async logged(message: string, skip = 0): Promise<Record<string, unknown>> {
    const matchOrExit = () => {
      const match = this.lines.map(parseLine).filter((line) => line?.msg === message)[skip];
      return match ?? (this.child.exitCode !== null ? "exited" : undefined);
    };
    const found = await waitFor(matchOrExit, `a "${message}" log line`, 30_000).catch(() => undefined);
    if (found === undefined || found === "exited") {
      throw new Error(`no "${message}" log line; output:\n${this.lines.join("\n")}`);
    }
    return found;
  }

  async ready(): Promise<void> {
    this.port = Number((await this.logged("scanner ready")).port);
  }

  async readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/readyz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** Waits for the first qscanner child to start. */
  /** The first child once it has exec'd: until then /proc shows the scanner's own command line. */
  async firstChild(): Promise<number> {
    const own = readFileSync(`/proc/${this.child.pid}/cmdline`, "utf8");
    return waitFor(
      () =>
        this.children().find((pid) => {
          const cmdline = cmdlineOf(pid);
          return cmdline !== undefined && cmdline !== own;
        }),
      "a qscanner child process",
      10_000,
    );
  }

  /** PIDs of this process' children (qscanner runs, each under its watchdog). */
  children(): number[] {
    return childrenOf(this.child.pid);
  }
}

function childrenOf(pid: number | undefined): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return Number(readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return undefined;
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const processes: ScannerProcess[] = [];
const entitiesToClose: TestEntities[] = [];
function scanner(key: keyof typeof ENTITIES, env?: Record<string, string>): ScannerProcess {
  const started = new ScannerProcess(key, env);
  processes.push(started);
  return started;
}
function entities(key: keyof typeof ENTITIES): TestEntities {
  const opened = new TestEntities(client, key);
  entitiesToClose.push(opened);
  return opened;
}

afterEach(async () => {
  for (const started of processes.splice(0)) {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGKILL");
    await started.exited;
    expect(started.lines.join("\n")).not.toContain(TOKEN);
  }
  for (const opened of entitiesToClose.splice(0)) await opened.close();
});

// Each test starts several Node processes (scanners, watchdogs, simulators): a bound for a busy machine.
describe("scanner process", { timeout: 90_000 }, () => {
  it("after kill -9 mid-scan, redelivers the request once the lock expires and publishes exactly one ScanCompleted", async () => {
    const queue = entities("kill");
    // Two replicas: whichever takes the request is killed, the other takes it over.
    const replicas = [scanner("kill"), scanner("kill")];
    await Promise.all(replicas.map((replica) => replica.ready()));
    expect(await replicas[0]?.readyz()).toEqual({
      status: 200,
      body: { status: "ready", phase: "running", dependencies: { servicebus: "ok", storage: "ok" } },
    });
    const request = servedRequest("slow3000");
    await queue.send(request);
    const victim = await Promise.any(
      replicas.map((replica) => replica.logged("scanning").then(() => replica)),
    );
    const qscannerPid = await victim.firstChild();
    const cmdline = readFileSync(`/proc/${qscannerPid}/cmdline`, "utf8");
    // The scanner resolved the tag first and scans the content it names.
    expect(cmdline).toContain(`registry.example.com/team/app@${registry.digestOf(request.image.ref)}`);
    expect(cmdline).not.toContain(TOKEN);

    victim.child.kill("SIGKILL");
    await victim.exited;

    const [scan] = await queue.completedFor(request.requestId, 1, 30_000);
    expect(scan).toMatchObject({ status: "succeeded", attempt: 2 });
    // Had the survivor's lock lapsed too, the broker would have redelivered within its 3 s lock.
    expect(await queue.allCompletedFor(request.requestId, 3500)).toHaveLength(1);
    expect(await queue.queueDrained()).toBe(true);
  });

  it("after kill -9, the qscanner run it started does not outlive it", async () => {
    const queue = entities("orphan");
    const running = scanner("orphan", { QSCANNER_PATH: QUIET_QSCANNER });
    await running.ready();
    await queue.send(servedRequest("quiet"));
    await running.logged("scanning");
    const descendants = await waitFor(() => descendantsOf(running.child.pid), "qscanner under its watchdog", {
      until: (pids) => pids.some((pid) => commandLine(pid)[0] === "sleep"),
    }).catch(() => descendantsOf(running.child.pid));
    expect(descendants.map((pid) => commandLine(pid)[0])).toContain("sleep");

    running.child.kill("SIGKILL");
    await running.exited;
    await waitFor(() => !descendants.some(existsAlive), "the qscanner run to end", 5000).catch(() => {});
    const survivors = descendants.filter(existsAlive);
    for (const pid of survivors) process.kill(pid, "SIGKILL");
    expect(survivors).toEqual([]);
  });

  it("on SIGTERM while idle, stops at once: no pending receive holds it until the grace period ends", async () => {
    entities("idle");
    const running = scanner("idle", { SHUTDOWN_GRACE_SECONDS: "60" });
    await running.ready();
    // Idle: the receive loop is waiting on the deployment queue.
    await running.logged("receiving scan requests");
    running.child.kill("SIGTERM");
    expect(await running.exited).toBe(0);
    await running.logged("stopped");
    expect(running.lines.join("\n")).not.toContain("grace period over");
  });

  it("on SIGTERM stops receiving, finishes what fits in the grace period and abandons the rest for redelivery at once", async () => {
    const queue = entities("drain");
    const running = scanner("drain", { SHUTDOWN_GRACE_SECONDS: "6", SCANNER_CONCURRENCY: "2" });
    await running.ready();
    const quick = servedRequest("slow2500");
    const long = servedRequest("slow60000");
    await queue.send(quick);
    await queue.send(long);
    await running.logged("scanning", 1);
    await running.firstChild();
    const qscannerPids = await waitFor(() => running.children(), "two qscanner children", {
      until: (pids) => pids.length >= 2,
      timeoutMs: 5000,
    }).catch(() => running.children());
    expect(qscannerPids).toHaveLength(2);

    running.child.kill("SIGTERM");
    await running.logged("shutting down: intake stopped, draining");
    expect((await running.readyz()).status).toBe(503);
    expect(await running.exited).toBe(0);
    expect(qscannerPids.filter(existsAlive)).toEqual([]);

    const [scan] = await queue.completedFor(quick.requestId);
    expect(scan).toMatchObject({ status: "succeeded", attempt: 1 });
    // The lock lasts a minute: receiving the long one within seconds proves it was abandoned.
    const receiver = client.createReceiver(queue.queue);
    const [redelivered] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 10_000 });
    expect(redelivered?.deliveryCount).toBe(1);
    expect(redelivered?.body).toMatchObject({ requestId: long.requestId });
    if (redelivered) await receiver.completeMessage(redelivered);
    await receiver.close();
    expect(await queue.allCompletedFor(long.requestId, 300)).toEqual([]);
  });
});

function descendantsOf(pid: number | undefined): number[] {
  const children = childrenOf(pid);
  return [...children, ...children.flatMap((child) => descendantsOf(child))];
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function existsAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}
