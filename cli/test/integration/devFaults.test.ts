/**
 * `npm start` (scanctl dev) under faults, as its own process on free ports: killed with SIGKILL,
 * which runs no clean-up, Azurite and the three services must end with it and a second start on
 * the same data folder must succeed; a service killed with SIGKILL is restarted and the examples
 * are still processed in full.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { EventHubProducerClient } from "@azure/event-hubs";
import { ENTITY_DEFAULTS } from "@qcs/shared";
import { isAlive, waitFor } from "@qcs/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { EventHubEventSender } from "../../src/adapters/eventHubs/eventSender.ts";
import { parseReplayInput, replayTotals } from "../../src/core/replayInput.ts";
import type { DevSummary } from "../../src/dev/core/summary.ts";
import { EPHEMERAL_PORT_OPTIONS, SCANCTL_BIN } from "../support/devStack.ts";

const EXAMPLES = new URL("../../../examples/events", import.meta.url).pathname;

interface Dev {
  child: ChildProcess;
  exited: Promise<unknown>;
  lines: string[];
  /** The --json summary line, parsed. */
  summary: Promise<DevSummary | undefined>;
}

const runs: Dev[] = [];
const pids = new Set<number>();
let dataDir: string;
const dataDirs: string[] = [];

async function newDataDir(): Promise<void> {
  dataDir = await mkdtemp(join(tmpdir(), "qcs-dev-faults-"));
  dataDirs.push(dataDir);
}

function startDev(...options: string[]): Dev {
  const child = spawn(
    process.execPath,
    [SCANCTL_BIN, "dev", "--json", "--data-dir", dataDir, ...options, ...EPHEMERAL_PORT_OPTIONS],
    {
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const lines: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => lines.push(line));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const summary = new Promise<DevSummary | undefined>((resolve) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.startsWith("{")) resolve(JSON.parse(line) as DevSummary);
    });
    void exited.then(() => resolve(undefined));
  });
  const dev = { child, lines, exited, summary };
  runs.push(dev);
  return dev;
}

async function ready(dev: Dev): Promise<void> {
  let gone = false;
  void dev.exited.then(() => (gone = true));
  await waitFor(
    () => gone || dev.lines.some((line) => line.includes("| ready in ")),
    "the stack to be ready",
    150_000,
  );
  if (gone) throw new Error(`scanctl dev exited before it was ready:\n${dev.lines.join("\n")}`);
}

/** The stack's children as its PID files name them. */
function children(folder = dataDir): Map<string, number> {
  const dir = join(folder, "pids");
  const found = new Map<string, number>();
  for (const file of readdirSync(dir)) {
    const name = file.replace(/\.json$/, "");
    if (name === "dev") continue;
    const { pid } = JSON.parse(readFileSync(join(dir, file), "utf8")) as { pid: number };
    found.set(name, pid);
    pids.add(pid);
  }
  return found;
}

afterAll(async () => {
  for (const { child, exited } of runs) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
  // A run killed by a failed assertion leaves its children to their lifeline: end them before their data goes.
  for (const dir of dataDirs) if (existsSync(join(dir, "pids"))) children(dir);
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  await waitFor(() => ![...pids].some(isAlive), "the stacks' processes to end").catch(() => {});
  for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("npm start under faults", () => {
  it("takes Azurite and the services with it, and the next start on its data folder succeeds", async () => {
    await newDataDir();
    const first = startDev("--persist");
    await ready(first);
    const started = children();
    expect([...started.keys()].sort()).toEqual(["azurite", "ingest", "recorder", "scanner"]);

    first.child.kill("SIGKILL");
    await first.exited;
    const survivors = () => [...started].filter(([, pid]) => isAlive(pid)).map(([name]) => name);
    await waitFor(() => survivors().length === 0, "the children to end", 30_000).catch(() => {});
    expect(survivors()).toEqual([]);

    const second = startDev("--persist");
    await ready(second);
    const again = children();
    second.child.kill("SIGTERM");
    await second.exited;
    expect([...again.values()].filter(isAlive)).toEqual([]);
  }, 300_000);

  it("restarts a service killed with SIGKILL, and the examples are still processed in full", async () => {
    await newDataDir();
    const dev = startDev("--once", "--timeout", "150");
    await ready(dev);
    const ingest = children().get("ingest") as number;
    // Before the replay: the events wait in the hub for the restarted ingest.
    process.kill(ingest, "SIGKILL");
    const summary = await dev.summary;
    if (!summary) throw new Error(`no summary:\n${dev.lines.join("\n")}`);
    expect(summary.complete, summary.left.join("\n")).toBe(true);
    expect(summary.replay.events).toBe(8);
    expect(
      dev.lines.some((line) => line.includes("ingest exited unexpectedly (signal SIGKILL); restarting it")),
    ).toBe(true);
    expect(await dev.exited).toBe(0);
  }, 300_000);

  it("with --persist, events sent before a crash that ingest had not read are read after the restart, and only those", async () => {
    await newDataDir();
    const first = startDev("--persist", "--timeout", "150", "--events", example("cloudevents-jobs.json"));
    const summary = await first.summary;
    if (!summary) throw new Error(`no summary:\n${first.lines.join("\n")}`);
    expect(summary.complete, summary.left.join("\n")).toBe(true);
    // Ingest can read nothing more: what is sent now is in the hub only when the stack is killed.
    const ingest = children().get("ingest") as number;
    process.kill(ingest, "SIGSTOP");
    const unread = await sendExample(summary, "activity-log-container-groups.json");
    first.child.kill("SIGKILL");
    await first.exited;
    process.kill(ingest, "SIGKILL");

    const second = startDev(
      "--persist",
      "--once",
      "--timeout",
      "150",
      "--events",
      example("event-grid.json"),
    );
    const after = await second.summary;
    if (!after) throw new Error(`no summary:\n${second.lines.join("\n")}`);
    expect(after.complete, after.left.join("\n")).toBe(true);
    // The unread events and this run's, not the first run's again (its checkpoints were kept).
    expect(after.ingest.recordsRead).toBe(unread + records(after.replay));
    expect(await second.exited).toBe(0);
  }, 400_000);
});

function example(name: string): string {
  return join(EXAMPLES, name);
}

function records(totals: {
  activityLogRecords: number;
  eventGridEvents: number;
  cloudEvents: number;
}): number {
  return totals.activityLogRecords + totals.eventGridEvents + totals.cloudEvents;
}

/** Sends an example file to the stack's hub as `scanctl replay` would; returns its record count. */
async function sendExample(summary: DevSummary, name: string): Promise<number> {
  const envFile = (summary as DevSummary & { envFile: string }).envFile;
  const connectionString = /^export EVENTHUBS_CONNECTION_STRING='([^']*)'$/m.exec(
    readFileSync(envFile, "utf8"),
  )?.[1];
  if (!connectionString) throw new Error(`no Event Hubs connection string in ${envFile}`);
  const parsed = parseReplayInput(readFileSync(example(name), "utf8"));
  if (!parsed.ok) throw new Error(parsed.reason);
  const producer = new EventHubProducerClient(connectionString, ENTITY_DEFAULTS.EVENTHUB_NAME);
  try {
    await new EventHubEventSender(producer).send(parsed.bodies);
  } finally {
    await producer.close();
  }
  return records(replayTotals(parsed.bodies));
}
