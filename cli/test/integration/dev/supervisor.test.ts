import { createServer, type Server } from "node:http";
import { groupAlive, isAlive, waitFor } from "@qcs/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { NotReadyError, waitUntilReady } from "../../../src/dev/adapters/processes/readiness.ts";
import {
  type ExitStatus,
  ProcessSupervisor,
  type SupervisedProcess,
} from "../../../src/dev/adapters/processes/supervisor.ts";

const node = process.execPath;
const script = (code: string) => ({ command: node, args: ["-e", code], env: { PATH: process.env.PATH } });

describe("ProcessSupervisor", () => {
  let supervisor: ProcessSupervisor | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await supervisor?.stopAll();
    supervisor = undefined;
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  function start(options: Partial<ConstructorParameters<typeof ProcessSupervisor>[0]> = {}) {
    const lines: string[] = [];
    const unexpected: Array<{ name: string; status: ExitStatus }> = [];
    supervisor = new ProcessSupervisor({
      writeLine: (line) => lines.push(line),
      onUnexpectedExit: (handle, status) => unexpected.push({ name: handle.name, status }),
      ...options,
    });
    return { supervisor, lines, unexpected };
  }

  it("prefixes every line of stdout and stderr with the process name, partial lines included", async () => {
    const { supervisor, lines } = start({ nameWidth: 6 });
    const child = supervisor.start({
      name: "alpha",
      ...script(
        "process.stdout.write('one\\ntw'); setTimeout(() => { process.stdout.write('o\\n'); process.stderr.write('err line\\nlast') }, 50)",
      ),
    });
    await child.exited;
    expect(lines.sort()).toEqual(["alpha  | err line", "alpha  | last", "alpha  | one", "alpha  | two"]);
  });

  it("reports a process that exits on its own with its exit code", async () => {
    const { supervisor, unexpected } = start();
    const child = supervisor.start({ name: "crashy", ...script("process.exit(3)") });
    await child.exited;
    await waitFor(() => unexpected.length === 1, "the unexpected exit report");
    expect(unexpected).toEqual([{ name: "crashy", status: { code: 3, signal: null } }]);
  });

  it("reports an executable that cannot be started", async () => {
    const { supervisor, unexpected } = start();
    const child = supervisor.start({ name: "missing", command: "/nonexistent/binary", args: [], env: {} });
    const status = await child.exited;
    expect(status.error).toMatch(/ENOENT/);
    await waitFor(() => unexpected.length === 1, "the unexpected exit report");
  });

  it("stops a process with SIGTERM and does not report the exit as unexpected", async () => {
    const { supervisor, lines, unexpected } = start();
    const child = supervisor.start({
      name: "polite",
      ...script(
        "process.on('SIGTERM', () => { console.log('draining'); process.exit(0) }); console.log('up'); setInterval(() => {}, 1000)",
      ),
    });
    await waitFor(() => lines.includes("polite   | up"), "the process to start");
    expect(await supervisor.stop(child)).toEqual({ code: 0, signal: null });
    expect(lines).toContain("polite   | draining");
    expect(unexpected).toEqual([]);
  });

  it("kills a process that ignores SIGTERM after the grace period, with everything in its group", async () => {
    const { supervisor, lines } = start({ graceMs: 300 });
    const child = supervisor.start({
      name: "stubborn",
      ...script(
        "const { spawn } = require('node:child_process');" +
          "const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });" +
          "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));" +
          "console.log('helper ' + helper.pid); setInterval(() => {}, 1000)",
      ),
    });
    const helperLine = await waitFor(
      () => lines.find((line) => line.includes("helper ")),
      "the helper's PID",
    );
    const helperPid = Number(helperLine.split("helper ")[1]);
    expect(isAlive(helperPid)).toBe(true);
    const status = await supervisor.stop(child);
    expect(status.signal).toBe("SIGKILL");
    expect(lines).toContain("stubborn | ignoring SIGTERM");
    await waitFor(() => !groupAlive(child.pid), "the process group to be gone");
    await waitFor(() => !isAlive(helperPid), "the helper to be gone");
  });

  it("kills what a process left in its group when it exits on its own", async () => {
    const { supervisor, lines } = start();
    const child = supervisor.start({
      name: "leaver",
      ...script(
        "const { spawn } = require('node:child_process');" +
          "const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });" +
          "console.log('helper ' + helper.pid); setTimeout(() => process.exit(0), 100)",
      ),
    });
    await child.exited;
    const helperPid = Number(lines.find((line) => line.includes("helper "))?.split("helper ")[1]);
    // Without the helper's PID line there is nothing to check: that must fail, not pass.
    expect(helperPid, lines.join("\n")).toBeGreaterThan(0);
    await waitFor(() => !isAlive(helperPid), "the helper to be gone");
  });

  it("restarts a process that exits unasked while its policy allows, then reports the exit", async () => {
    const restarts: Array<{ pid: number; count: number; delayMs: number }> = [];
    const spawned: number[] = [];
    const { supervisor, unexpected } = start({
      restart: { maxRestarts: 2, windowMs: 60_000, delayMs: (count) => count * 10 },
      onRestart: (handle, _status, { count, delayMs }) => restarts.push({ pid: handle.pid, count, delayMs }),
      onSpawn: (handle) => spawned.push(handle.pid),
    });
    supervisor.start({ name: "flaky", ...script("process.exit(4)") });
    await waitFor(() => unexpected.length === 1, "the final exit report");
    expect(restarts.map(({ count, delayMs }) => ({ count, delayMs }))).toEqual([
      { count: 1, delayMs: 10 },
      { count: 2, delayMs: 20 },
    ]);
    expect(new Set(spawned).size).toBe(3);
    expect(unexpected).toEqual([{ name: "flaky", status: { code: 4, signal: null } }]);
  });

  it("stops the latest run of a restarted process, given its first", async () => {
    const { supervisor } = start({ restart: { maxRestarts: 5, windowMs: 60_000, delayMs: () => 50 } });
    const first = supervisor.start({
      name: "victim",
      ...script("setInterval(() => {}, 1000)"),
    });
    process.kill(first.pid, "SIGKILL");
    await waitFor(() => supervisor.processes[0]?.pid !== first.pid, "the restart");
    const second = supervisor.processes[0] as SupervisedProcess;
    expect(isAlive(second.pid)).toBe(true);
    await supervisor.stop(first);
    expect(groupAlive(second.pid)).toBe(false);
  });

  it("stops every process at once: one still draining does not hold up the others' SIGTERM", async () => {
    const { supervisor, lines } = start({ graceMs: 60_000 });
    const quick = ["first", "second"].map((name) =>
      supervisor.start({ name, ...script("setInterval(() => {}, 1000)") }),
    );
    // Started last, so stopping one after the other (last first) would wait out its drain.
    const draining = supervisor.start({
      name: "draining",
      ...script(
        "process.on('SIGTERM', () => console.log('draining')); console.log('up'); setInterval(() => {}, 1000)",
      ),
    });
    await waitFor(
      () => lines.some((line) => line.endsWith("| up")),
      "the draining process to handle SIGTERM",
    );
    const stopped = supervisor.stopAll();
    await Promise.all(quick.map((child) => child.exited));
    expect(draining.exitStatus()).toBeUndefined();
    expect(isAlive(draining.pid)).toBe(true);
    process.kill(draining.pid, "SIGKILL");
    await stopped;
    for (const child of [...quick, draining]) expect(groupAlive(child.pid)).toBe(false);
  });

  it("waits for /readyz to answer 200 and names a process that exits before it is ready", async () => {
    let ready = false;
    const server = createServer((request, response) => {
      response.writeHead(request.url === "/readyz" && ready ? 200 : 503).end("not yet");
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;

    let polls = 0;
    server.on("request", () => {
      polls += 1;
      if (polls === 3) ready = true;
    });
    await waitUntilReady("svc", url, { exited: new Promise(() => {}), intervalMs: 10 });
    expect(polls).toBeGreaterThanOrEqual(3);

    ready = false;
    await expect(waitUntilReady("svc", url, { exited: Promise.resolve(), intervalMs: 10 })).rejects.toThrow(
      new NotReadyError("svc exited before it was ready (last /readyz: 503 not yet)"),
    );
  });
});
