import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { SecretRedactor } from "../../src/index.ts";
import { createLogger, createServiceServer, ServiceLifecycle, startTelemetry } from "../../src/runtime.ts";

const quietLogger = () =>
  createLogger({
    name: "test",
    level: "silent",
    destination: new Writable({ write: (_c, _e, done) => done() }),
    redactor: new SecretRedactor(),
  });

describe("service HTTP server over a real socket", () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function start(ready: () => boolean | Promise<boolean>) {
    const telemetry = startTelemetry({ serviceName: "unit", env: {} });
    const lifecycle = new ServiceLifecycle({ logger: quietLogger(), graceMs: 100, exit: () => {} });
    const app = createServiceServer({
      logger: quietLogger(),
      telemetry,
      lifecycle,
      readiness: [{ name: "servicebus", check: ready }],
      readinessTimeoutMs: 200,
    });
    const counter = telemetry.meter.createCounter("qcs_unit_events_total", { description: "events seen" });
    counter.add(3, { kind: "test" });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    closers.push(
      () => app.close(),
      () => telemetry.shutdown(),
    );
    return { url, lifecycle };
  }

  it("starts without a deprecation warning from fastify", async () => {
    const warnings: Error[] = [];
    const record = (warning: Error) => warnings.push(warning);
    process.on("warning", record);
    try {
      const { url } = await start(() => true);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", record);
    }
    expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
  });

  it("answers liveness", async () => {
    const { url } = await start(() => true);
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("reports readiness from the dependency checks", async () => {
    let up = true;
    const { url } = await start(() => up);
    let response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ready",
      phase: "running",
      dependencies: { servicebus: "ok" },
    });
    up = false;
    response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: "not ready",
      dependencies: { servicebus: "failing" },
    });
  });

  it("counts a check that hangs or throws as not ready", async () => {
    const { url } = await start(() => new Promise<boolean>(() => {}));
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const failing = await start(() => Promise.reject(new Error("down")));
    expect((await fetch(`${failing.url}/readyz`)).status).toBe(503);
  });

  it("is not ready once shutdown starts", async () => {
    const { url, lifecycle } = await start(() => true);
    await lifecycle.shutdown("test");
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
  });

  it("serves metrics in the Prometheus text format", async () => {
    const { url } = await start(() => true);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toContain("# HELP qcs_unit_events_total events seen");
    expect(text).toMatch(/qcs_unit_events_total\{kind="test"[^}]*\} 3/);
  });
});

describe("graceful shutdown of a real process", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  async function startFixture(graceMs: number) {
    child = spawn(process.execPath, ["shared/test/fixtures/jobService.ts"], {
      env: { ...process.env, GRACE_MS: String(graceMs) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const events: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      events.push(JSON.parse(line));
      for (const wake of waiters.splice(0)) wake();
    });
    const waitFor = async (event: string) => {
      while (!events.some((e) => e.event === event))
        await new Promise<void>((resolve) => waiters.push(resolve));
      return events.find((e) => e.event === event) ?? {};
    };
    const { port } = await waitFor("listening");
    return { url: `http://127.0.0.1:${port}`, events, waitFor, process: child };
  }

  it("stops intake, lets work in flight finish, then exits 0", async () => {
    const service = await startFixture(5000);
    expect(await (await fetch(`${service.url}/jobs?ms=600&id=a`, { method: "POST" })).json()).toEqual({
      accepted: true,
    });
    const exited = once(service.process, "exit");
    service.process.kill("SIGTERM");
    await service.waitFor("intake-stopped");
    const duringDrain = await fetch(`${service.url}/readyz`);
    expect(duringDrain.status).toBe(503);
    expect((await fetch(`${service.url}/jobs?ms=10&id=late`, { method: "POST" })).status).toBe(503);
    const [code] = await exited;
    expect(code).toBe(0);
    expect(service.events.map((e) => e.event)).toEqual(["listening", "intake-stopped", "job-finished"]);
  });

  it("abandons work that outlasts the grace period", async () => {
    const service = await startFixture(300);
    await fetch(`${service.url}/jobs?ms=60000&id=slow`, { method: "POST" });
    const exited = once(service.process, "exit");
    service.process.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
    expect(service.events).toContainEqual({ event: "job-abandoned", id: "slow" });
  });
});
