// The qscanner runner against the simulator (and plain node for output bounding): real child
// processes, real process groups, real temp directories.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qscannerSimulatorPath, startQscannerSimulator } from "@qcs/emulators";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { QscannerProcessRunner, qscannerEnvironment } from "../../src/adapters/qscanner/processRunner.ts";
import { buildScanArgs, isReportFile } from "../../src/core/qscannerCli.ts";
import { parseScanReport } from "../../src/core/report.ts";

const TOKEN = "qualys-token-4f1c9a7e2b";
const root = mkdtempSync(join(tmpdir(), "qscanner-runner-test-"));
let tempRoot: string;
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  tempRoot = mkdtempSync(join(root, "scans-"));
});

function runner(
  options: { onSpawn?: (pid: number) => void; killGraceMs?: number; executable?: string } = {},
) {
  return new QscannerProcessRunner({
    executable: options.executable ?? qscannerSimulatorPath,
    env: qscannerEnvironment({ ...process.env, TMPDIR: root }, TOKEN, "acr-exchange"),
    tempRoot,
    killGraceMs: options.killGraceMs ?? 300,
    ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
  });
}

const scanOf = (imageRef: string, timeoutMs = 20_000, signal = new AbortController().signal) => ({
  args: (outputDir: string) => buildScanArgs({ pod: "US2", imageRef, outputDir, scanTimeoutSeconds: 60 }),
  env: {},
  timeoutMs,
  signal,
  collect: isReportFile,
});

/** Alive and not a zombie (a reaped-late orphan must not count). */
function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

describe("qscanner process runner", () => {
  it("runs a scan, returns the report files and removes its output directory", async () => {
    const result = await runner().run(scanOf("docker.io/library/nginx:1.27"));
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, aborted: false });
    expect(result.files.map((file) => file.name)).toEqual([
      expect.stringMatching(/-Report\.sarif\.json$/),
      expect.stringMatching(/-ScanResult\.json$/),
    ]);
    expect(parseScanReport(result.files, "library/nginx").digest).toMatch(/^sha256:/);
    expect(result.output).toContain("qscanner simulator");
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it("passes the Qualys token in the child's environment, never on its command line", async () => {
    let childPid: number | undefined;
    const abort = new AbortController();
    const running = runner({ onSpawn: (pid) => (childPid = pid) }).run(
      scanOf("docker.io/library/app:slow20000", 30_000, abort.signal),
    );
    const pid = await waitFor(() => childPid, "the child to start");
    const cmdline = await waitFor(() => {
      const text = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return text.includes("image") ? text : undefined;
    }, "the child's command line");
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    abort.abort();
    await running;

    expect(cmdline.split("\0")).toContain("docker.io/library/app:slow20000");
    expect(cmdline).not.toContain(TOKEN);
    expect(environ).toContain(`QUALYS_ACCESS_TOKEN=${TOKEN}`);
    expect(environ.some((entry) => entry.startsWith("SERVICEBUS_CONNECTION_STRING="))).toBe(false);
  });

  it("kills the whole process group on timeout, even a child that ignores SIGTERM", async () => {
    let leader = 0;
    const result = await runner({ killGraceMs: 300, onSpawn: (pid) => (leader = pid) }).run(
      // Long enough for the watchdog and the simulator to start and print its helper on a busy machine.
      scanOf("docker.io/library/app:hang", 5000),
    );
    expect(result).toMatchObject({ timedOut: true, exitCode: null, files: [] });
    expect(isAlive(leader)).toBe(false);
    const helper = Number(/helper process (\d+)/.exec(result.output)?.[1]);
    expect(helper).toBeGreaterThan(0);
    await waitFor(() => !isAlive(helper), "the helper process to die");
    expect(isAlive(helper)).toBe(false);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it("kills the scan when its signal aborts (lock lost, shutdown)", async () => {
    const abort = new AbortController();
    let childPid = 0;
    const running = runner({ onSpawn: (pid) => (childPid = pid) }).run(
      scanOf("docker.io/library/app:slow20000", 30_000, abort.signal),
    );
    await waitFor(() => childPid > 0, "the child to start");
    abort.abort();
    const result = await running;
    expect(result).toMatchObject({ aborted: true, timedOut: false });
    expect(isAlive(childPid)).toBe(false);
  });

  it("keeps only the tail of a flood of console output", async () => {
    const flood = new QscannerProcessRunner({
      executable: process.execPath,
      env: { PATH: process.env.PATH ?? "" },
      tempRoot,
      maxOutputBytes: 1000,
    });
    const result = await flood.run({
      args: () => [
        "-e",
        "process.stdout.write('x'.repeat(2e6)); process.stderr.write('\\nERROR the end\\n'); process.exit(3)",
      ],
      env: {},
      timeoutMs: 20_000,
      signal: new AbortController().signal,
      collect: () => true,
    });
    expect(result.exitCode).toBe(3);
    expect(result.output.length).toBeLessThan(1100);
    expect(result.output).toMatch(/^\[earlier output dropped\]\n/);
    expect(result.output.trimEnd().endsWith("ERROR the end")).toBe(true);
  });

  it("drops the cut first line of a bounded tail, so no fragment of a secret in it survives", async () => {
    const secret = "Qk7vT2xR9mPz4LwN8sYb3HcJ6fGd1ZqE5uVa0XoKi2WnBp7Ms4T";
    const flood = new QscannerProcessRunner({
      executable: process.execPath,
      env: { PATH: process.env.PATH ?? "" },
      tempRoot,
      maxOutputBytes: 1000,
    });
    // The last 1000 bytes start 30 characters into the secret.
    const result = await flood.run({
      args: () => [
        "-e",
        `process.stdout.write('x'.repeat(5000) + ' ${secret} level=error\\n' + 'z'.repeat(957)); process.exit(3)`,
      ],
      env: {},
      timeoutMs: 20_000,
      signal: new AbortController().signal,
      collect: () => true,
    });
    expect(result.exitCode).toBe(3);
    expect(result.output).not.toContain(secret.slice(-30, -20));
    expect(result.output).toBe(`[earlier output dropped]\n${"z".repeat(957)}`);
  });

  it("reports a binary that cannot be started", async () => {
    const result = await runner({ executable: join(root, "no-such-qscanner") }).run(
      scanOf("docker.io/library/x:1"),
    );
    expect(result.spawnError).toMatch(/^ENOENT/);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it("reads the version of the binary", async () => {
    expect(await runner().version()).toBe("0.0.0-simulator");
  });
});

describe("qscanner process runner with the resident simulator's client", () => {
  it("runs a scan and, on timeout, kills the client's group, helper included", async () => {
    const resident = await startQscannerSimulator();
    try {
      const ok = await runner({ executable: resident.path }).run(scanOf("docker.io/library/nginx:1.27"));
      expect(ok).toMatchObject({ exitCode: 0, timedOut: false });
      expect(ok.files.map((file) => file.name)).toEqual([
        expect.stringMatching(/-Report\.sarif\.json$/),
        expect.stringMatching(/-ScanResult\.json$/),
      ]);

      const hung = await runner({ executable: resident.path, killGraceMs: 300 }).run(
        scanOf("docker.io/library/app:hang", 3000),
      );
      expect(hung).toMatchObject({ timedOut: true, exitCode: null, files: [] });
      expect(hung.output).toContain("ignoring SIGTERM");
      const helper = Number(/helper process (\d+)/.exec(hung.output)?.[1]);
      expect(helper).toBeGreaterThan(0);
      await waitFor(() => !isAlive(helper), "the helper process to die");
    } finally {
      await resident.close();
    }
  });
});

describe("qscanner environment", () => {
  const parent = {
    PATH: "/usr/bin",
    HOME: "/home/scanner",
    HTTPS_PROXY: "http://proxy:3128",
    SERVICEBUS_CONNECTION_STRING: "Endpoint=sb://x;SharedAccessKey=secret",
    STORAGE_CONNECTION_STRING: "AccountKey=secret",
    QUALYS_ACCESS_TOKEN_FILE: "/run/secrets/token",
    AZURE_CLIENT_ID: "5b6e0c1a-0000-4000-8000-000000000001",
    AZURE_TENANT_ID: "72f988bf-0000-4000-8000-000000000002",
    IDENTITY_ENDPOINT: "http://localhost:42356/msi/token",
    IDENTITY_HEADER: "identity-header-value",
    MSI_ENDPOINT: "http://localhost:42356/msi/token",
    MSI_SECRET: "msi-secret-value",
    QSCANNER_REGISTRY_USERNAME: "someone",
  };

  it("passes locale, home, temp and proxy settings, and nothing else but the token (acr-exchange)", () => {
    expect(qscannerEnvironment(parent, TOKEN, "acr-exchange")).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/scanner",
      HTTPS_PROXY: "http://proxy:3128",
      QUALYS_ACCESS_TOKEN: TOKEN,
    });
  });

  it("adds the managed identity's variables when qscanner authenticates itself, never QSCANNER_REGISTRY_*", () => {
    const env = qscannerEnvironment(parent, TOKEN, "qscanner");
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/scanner",
      HTTPS_PROXY: "http://proxy:3128",
      QUALYS_ACCESS_TOKEN: TOKEN,
      AZURE_CLIENT_ID: parent.AZURE_CLIENT_ID,
      AZURE_TENANT_ID: parent.AZURE_TENANT_ID,
      IDENTITY_ENDPOINT: parent.IDENTITY_ENDPOINT,
      IDENTITY_HEADER: parent.IDENTITY_HEADER,
      MSI_ENDPOINT: parent.MSI_ENDPOINT,
      MSI_SECRET: parent.MSI_SECRET,
    });
  });
});
