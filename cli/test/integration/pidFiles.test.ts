// The local stack's PID files against real processes: a start clears what a killed stack left
// running on its data folder, and refuses a folder whose stack still runs.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive, waitFor } from "@qcs/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { PidFiles, StackInUseError } from "../../src/dev/adapters/processes/pidFiles.ts";

const started: ChildProcess[] = [];
const dirs: string[] = [];

/** A process in its own group that nothing but a kill ends, as an orphaned child would be. */
function sleeper(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], {
    stdio: "ignore",
    detached: true,
  });
  started.push(child);
  return child;
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "qcs-pidfiles-"));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("PidFiles", () => {
  it("kills what a killed stack left running, and only that", async () => {
    const dir = await dataDir();
    const killedRun = new PidFiles(dir);
    await killedRun.claim();
    const orphan = sleeper();
    const unrelated = sleeper();
    await killedRun.record("azurite", orphan.pid ?? -1);
    // The stack's own record names a process that has exited: the stack was killed.
    const dead = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => dead.once("exit", resolve));
    await killedRun.record("recorder", dead.pid ?? -1);

    const next = new PidFiles(dir);
    expect(await next.claim()).toEqual([{ name: "azurite", pid: orphan.pid }]);
    await waitFor(() => orphan.exitCode !== null || orphan.signalCode !== null, "the orphan to be reaped");
    expect(orphan.signalCode).toBe("SIGKILL");
    expect(isAlive(unrelated.pid ?? -1)).toBe(true);
    await next.release();
  });

  it("refuses a data folder whose stack still runs", async () => {
    const dir = await dataDir();
    const running = sleeper();
    const records = new PidFiles(dir);
    await records.claim();
    await records.record("dev", running.pid ?? -1);
    await expect(new PidFiles(dir).claim()).rejects.toThrow(StackInUseError);
    expect(isAlive(running.pid ?? -1)).toBe(true);
  });
});
