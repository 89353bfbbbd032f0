/**
 * `npm start` (scanctl dev) killed with SIGKILL, which runs no clean-up: Azurite and the three
 * services must end with it, and a second start on the same data folder must succeed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { isAlive, waitFor } from "../dev/support/waitFor.ts";

const BIN = new URL("../../src/bin.ts", import.meta.url).pathname;
const PORT_OPTIONS = [
  "--servicebus-port",
  "--servicebus-admin-port",
  "--eventhubs-port",
  "--arm-port",
  "--blob-port",
  "--queue-port",
  "--table-port",
  "--recorder-port",
  "--ingest-port",
  "--scanner-port",
].flatMap((option) => [option, "0"]);

interface Dev {
  child: ChildProcess;
  exited: Promise<unknown>;
  lines: string[];
}

const runs: Dev[] = [];
const pids = new Set<number>();
let dataDir: string;

function startDev(): Dev {
  const child = spawn(
    process.execPath,
    [BIN, "dev", "--json", "--persist", "--data-dir", dataDir, ...PORT_OPTIONS],
    { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const lines: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => lines.push(line));
  const dev = { child, lines, exited: new Promise((resolve) => child.once("exit", resolve)) };
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
function children(): Map<string, number> {
  const dir = join(dataDir, "pids");
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
  for (const pid of pids) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe("npm start killed with SIGKILL", () => {
  it("takes Azurite and the services with it, and the next start on its data folder succeeds", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "qcs-dev-kill-"));
    const first = startDev();
    await ready(first);
    const started = children();
    expect([...started.keys()].sort()).toEqual(["azurite", "ingest", "recorder", "scanner"]);

    first.child.kill("SIGKILL");
    await first.exited;
    const survivors = () => [...started].filter(([, pid]) => isAlive(pid)).map(([name]) => name);
    await waitFor(() => survivors().length === 0, "the children to end", 30_000).catch(() => {});
    expect(survivors()).toEqual([]);

    const second = startDev();
    await ready(second);
    const again = children();
    second.child.kill("SIGTERM");
    await second.exited;
    expect([...again.values()].filter(isAlive)).toEqual([]);
  }, 300_000);
});
