/**
 * Runs qscanner as a child process: an argument array and no shell; its own process group, so a
 * timeout or an abort kills everything it started; under a watchdog (watchdog.sh, a shell script) that kills that
 * group if this process dies; bounded capture of stdout and stderr; a fresh private output
 * directory per scan, read back and removed afterwards. The Qualys token reaches the child only
 * through its environment.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import type { QscannerProcess, QscannerRunOptions, QscannerRunResult } from "../../core/ports.ts";
import { parseVersionOutput, QSCANNER_ENV } from "../../core/qscannerCli.ts";
import type { OutputFile } from "../../core/report.ts";

const WATCHDOG = join(import.meta.dirname, "watchdog.sh");

export interface QscannerProcessRunnerOptions {
  /** Path of the qscanner binary (or the simulator). */
  executable: string;
  /** Base environment of every run; build it with {@link qscannerEnvironment}. */
  env: Readonly<Record<string, string>>;
  /** Where per-scan output directories are created. Default: the OS temp directory. */
  tempRoot?: string;
  /** Bytes of console output kept (the tail). Default: 64 KiB. */
  maxOutputBytes?: number;
  /** Larger report files are not read. Default: 64 MiB. */
  maxReportBytes?: number;
  /** Between SIGTERM and SIGKILL to the process group. Default: 5000 ms. */
  killGraceMs?: number;
  /** Called with the child's PID (the watchdog's, leader of qscanner's process group) once it runs. */
  onSpawn?: (pid: number) => void;
}

/** Parent variables a scanner binary may need: locale, home, temp, proxies, CA bundles. Nothing else leaks. */
const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "USER",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "XDG_CACHE_HOME",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  // Local stack and tests only: the simulator resolves tags where the scanner does.
  "REGISTRY_API_BASE_URL",
];

/**
 * The identity qscanner authenticates to ACR with when it does so itself (REGISTRY_AUTH=qscanner):
 * which managed identity, and the platform's endpoint for its tokens (App Service / Container Apps
 * and the older MSI names).
 */
const IDENTITY_VARIABLES = [
  "AZURE_CLIENT_ID",
  "AZURE_TENANT_ID",
  "IDENTITY_ENDPOINT",
  "IDENTITY_HEADER",
  "MSI_ENDPOINT",
  "MSI_SECRET",
];

/**
 * The child's base environment: the pass-through variables of `parent`, the Qualys token and, when
 * qscanner authenticates to registries itself, the identity variables (and never `QSCANNER_REGISTRY_*`,
 * which conflict with it).
 */
export function qscannerEnvironment(
  parent: Readonly<Record<string, string | undefined>>,
  accessToken: string,
  registryAuth: "qscanner" | "acr-exchange",
) {
  const env: Record<string, string> = {};
  for (const name of registryAuth === "qscanner"
    ? [...PASSED_THROUGH, ...IDENTITY_VARIABLES]
    : PASSED_THROUGH) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  env[QSCANNER_ENV.accessToken] = accessToken;
  return env;
}

export class QscannerProcessRunner implements QscannerProcess {
  readonly #options: QscannerProcessRunnerOptions;

  constructor(options: QscannerProcessRunnerOptions) {
    this.#options = options;
  }

  /** One qscanner run, as a span in the trace of the request being handled (the global tracer). */
  async run(options: QscannerRunOptions): Promise<QscannerRunResult> {
    return trace.getTracer("scanner").startActiveSpan("qscanner run", async (span) => {
      const outputDir = await mkdtemp(join(this.#options.tempRoot ?? tmpdir(), "qscanner-"));
      try {
        const result = await this.#spawn(options.args(outputDir), options);
        const files = result.exitCode === 0 ? await this.#collect(outputDir, options.collect) : [];
        span.setAttributes({
          "process.exit.code": result.exitCode ?? -1,
          "qscanner.timed_out": result.timedOut,
        });
        if (result.exitCode !== 0) span.setStatus({ code: SpanStatusCode.ERROR });
        return { ...result, files };
      } finally {
        span.end();
        await rm(outputDir, { recursive: true, force: true });
      }
    });
  }

  /** Runs `qscanner --version` and returns the version it prints, if any. */
  async version(timeoutMs = 15_000): Promise<string | undefined> {
    const result = await this.#spawn(["--version"], {
      env: {},
      timeoutMs,
      signal: new AbortController().signal,
    });
    if (result.spawnError) throw new Error(`cannot run ${this.#options.executable}: ${result.spawnError}`);
    return parseVersionOutput(result.output);
  }

  #spawn(
    args: string[],
    options: Pick<QscannerRunOptions, "env" | "timeoutMs" | "signal">,
  ): Promise<Omit<QscannerRunResult, "files">> {
    const started = performance.now();
    const output = new TailBuffer(this.#options.maxOutputBytes ?? 64 * 1024);
    const graceMs = this.#options.killGraceMs ?? 5000;
    return new Promise((resolve) => {
      let timedOut = false;
      let aborted = false;
      let escalation: NodeJS.Timeout | undefined;
      const child = spawn("/bin/sh", [WATCHDOG, this.#options.executable, ...args], {
        env: { ...this.#options.env, ...options.env },
        // A new process group (setsid): killing -pid reaches every process qscanner starts.
        detached: true,
        // fd 3: the watchdog's lifeline to this process, and how it reports a qscanner it cannot start.
        stdio: ["ignore", "pipe", "pipe", "pipe"],
        shell: false,
      });
      let watchdogReport = "";
      child.stdio[3]?.on("data", (chunk: Buffer) => {
        watchdogReport += chunk.toString("utf8");
      });
      const killGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // ESRCH: the whole group is gone already.
        }
      };
      const stop = () => {
        killGroup("SIGTERM");
        escalation ??= setTimeout(() => killGroup("SIGKILL"), graceMs);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs);
      const onAbort = () => {
        aborted = true;
        stop();
      };
      options.signal.addEventListener("abort", onAbort, { once: true });
      if (options.signal.aborted) onAbort();

      child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
      child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
      if (child.pid !== undefined) this.#options.onSpawn?.(child.pid);
      // Whatever the leader left running in its group dies with it (and releases the pipes).
      child.once("exit", () => killGroup("SIGKILL"));

      const finish = (exitCode: number | null, spawnError?: string) => {
        clearTimeout(timer);
        clearTimeout(escalation);
        options.signal.removeEventListener("abort", onAbort);
        const result: Omit<QscannerRunResult, "files"> = {
          exitCode,
          timedOut,
          aborted,
          output: output.text(),
          durationMs: Math.round(performance.now() - started),
        };
        if (spawnError !== undefined) result.spawnError = spawnError;
        resolve(result);
      };
      child.once("error", (error: NodeJS.ErrnoException) =>
        finish(null, `${error.code ?? "error"}: ${error.message}`),
      );
      child.once("close", (code) => (watchdogReport ? finish(null, watchdogReport) : finish(code)));
    });
  }

  async #collect(outputDir: string, wanted: (name: string) => boolean): Promise<OutputFile[]> {
    const limit = this.#options.maxReportBytes ?? 64 * 1024 * 1024;
    const names = (await readdir(outputDir, { recursive: true })).filter((name) => wanted(name));
    const files: OutputFile[] = [];
    for (const name of names.sort()) {
      const path = join(outputDir, name);
      const info = await stat(path);
      if (!info.isFile() || info.size > limit) continue;
      files.push({ name, content: await readFile(path, "utf8") });
    }
    return files;
  }
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #dropped = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size > this.#limit && this.#chunks.length > 0) {
      const excess = this.#size - this.#limit;
      const first = this.#chunks[0] as Buffer;
      this.#dropped = true;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.#size -= first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.#size -= excess;
      }
    }
  }

  text(): string {
    const text = Buffer.concat(this.#chunks).toString("utf8");
    if (!this.#dropped) return text;
    // The first line was cut: a secret in it could no longer be recognised by the redactor.
    const newline = text.indexOf("\n");
    return `[earlier output dropped]\n${newline === -1 ? "" : text.slice(newline + 1)}`;
  }
}
