/**
 * `scanctl dev` (`npm start`): start the local stack, replay the example events, follow them
 * through the pipeline until it is quiet, print a summary, then keep running (or stop with
 * `--once`). Ctrl-C or SIGTERM stops everything, services first. Failures end as a `CliError`
 * after the stack has stopped.
 */
import { chmod, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { styleText } from "node:util";
import { type FaultRule, readFaultFile } from "@qcs/emulators";
import type { SweepSummary } from "@qcs/ingest/sweep";
import { CliError, isCliError } from "../core/cliError.ts";
import { PortInUseError } from "./adapters/net/ports.ts";
import { StackInUseError } from "./adapters/processes/pidFiles.ts";
import type { ExitStatus } from "./adapters/processes/supervisor.ts";
import { assessProgress, type ProgressAssessment, QuietTracker } from "./core/completion.ts";
import type { DevPorts } from "./core/portPlan.ts";
import type { Env } from "./core/serviceEnv.ts";
import { buildSummary, type DevSummary, type ReplayCounts } from "./core/summary.ts";
import { renderSummary, statusPageUrl } from "./core/summaryView.ts";
import { type DevStack, generateApiKey, RESTART_POLICY, startDevStack } from "./devStack.ts";

export interface DevOptions {
  once: boolean;
  json: boolean;
  /** Run one sweep after the replay (`--no-sweep` skips it). */
  sweep: boolean;
  persist: boolean;
  inventory: string;
  /** Fault rules file for the ARM emulator (`--arm-faults`). */
  armFaults?: string;
  events: string[];
  ports: DevPorts;
  /** How long the replay may take to be fully processed. */
  timeoutMs: number;
  dataDir: string;
}

export interface DevOutput {
  /** Writes one or more whole lines (no trailing newline). */
  line(text: string): void;
  /** Whether colours may be used. */
  colors: boolean;
  /** Whether it is a terminal (the services then log in the readable format). */
  isTerminal: boolean;
}

export interface DevIo {
  /** The summary (and, without --json, everything else). */
  stdout: DevOutput;
  /** With --json, the logs. */
  stderr: DevOutput;
  /** Aborted on SIGINT / SIGTERM. */
  signal: AbortSignal;
}

const NAME_COLOURS: Record<string, Parameters<typeof styleText>[0]> = {
  dev: "bold",
  recorder: "green",
  scanner: "magenta",
  ingest: "cyan",
  sweep: "blue",
};
const POLL_MS = 500;

export async function runDev(options: DevOptions, io: DevIo, env: Env): Promise<void> {
  const startedAt = new Date();
  const logs = options.json ? io.stderr : io.stdout;
  const paint = (name: string) => {
    const colour = NAME_COLOURS[name.trim()];
    return logs.colors && colour ? styleText(colour, name, { validateStream: false }) : name;
  };
  const say = (message: string) => logs.line(`${paint("dev".padEnd(8))} | ${message}`);

  // A crashed service is restarted (RESTART_POLICY); one that keeps crashing takes the stack down:
  // nothing it was meant to do would happen.
  const crash = new AbortController();
  let crashed: string | undefined;
  const how = (status: ExitStatus) =>
    status.error ?? (status.signal ? `signal ${status.signal}` : `exit code ${status.code}`);
  const onRestart = (name: string, status: ExitStatus, restart: { count: number; delayMs: number }) =>
    say(
      `${name} exited unexpectedly (${how(status)}); restarting it in ${seconds(restart.delayMs)} s (restart ${restart.count} of ${RESTART_POLICY.maxRestarts} within ${RESTART_POLICY.windowMs / 60_000} min)`,
    );
  const onUnexpectedExit = (name: string, status: ExitStatus) => {
    const why = status.error
      ? how(status)
      : `${how(status)}, after ${RESTART_POLICY.maxRestarts} restarts within ${RESTART_POLICY.windowMs / 60_000} min`;
    crashed ??= `${name} exited unexpectedly (${why}); its last lines are above`;
    crash.abort();
  };
  const signal = AbortSignal.any([io.signal, crash.signal]);
  const failure = (error: unknown): CliError => {
    if (crashed) return new CliError("UNAVAILABLE", crashed);
    if (isCliError(error)) return error;
    if (error instanceof PortInUseError || error instanceof StackInUseError) {
      return new CliError("USAGE", error.message);
    }
    if (io.signal.aborted) return new CliError("INCOMPLETE", "interrupted before the events were processed");
    const message = error instanceof Error ? error.message : String(error);
    return new CliError("UNAVAILABLE", message.split("\n")[0] ?? message, { cause: error });
  };

  const recorderApiKey = env.RECORDER_API_KEY || generateApiKey();
  // Read before anything starts, so that a bad file costs no start-up.
  let armFaults: FaultRule[] = [];
  if (options.armFaults !== undefined) {
    try {
      armFaults = await readFaultFile(options.armFaults);
    } catch (error) {
      throw new CliError("USAGE", (error as Error).message);
    }
  }
  say(
    `starting the local stack (no Docker), ${options.persist ? `data kept in ${options.dataDir}` : "in memory"}`,
  );
  let stack: DevStack;
  try {
    stack = await startDevStack({
      host: "127.0.0.1",
      ports: options.ports,
      inventory: options.inventory,
      armFaults,
      dataDir: options.dataDir,
      persist: options.persist,
      env,
      recorderApiKey,
      logFormat: logs.isTerminal ? "pretty" : "json",
      writeLine: (line) => logs.line(line),
      paint,
      say,
      onRestart,
      onUnexpectedExit,
      signal,
    });
  } catch (error) {
    throw failure(error);
  }

  const envFile = join(options.dataDir, "scanctl.env");
  try {
    await writeScanctlEnv(envFile, stack.scanctlEnv);
    say(`ready in ${seconds(Date.now() - startedAt.getTime())} s; scanctl settings: source ${envFile}`);
    say(
      `recorder API: ${stack.urls.recorder}/api/scans with "Authorization: Bearer $RECORDER_API_KEY" (${env.RECORDER_API_KEY ? "the key you gave" : "a key generated for this run"}; exported in ${envFile})`,
    );

    const replayStarted = new Date();
    const replay = await stack.replay(options.events);
    say(
      `replayed ${replay.events} event(s) from ${replay.files} file(s) to the Event Hub: ${replay.activityLogRecords} Activity Log record(s), ${replay.eventGridEvents} Event Grid event(s), ${replay.cloudEvents} CloudEvent(s)`,
    );

    let outcome = await followPipeline(stack, options.timeoutMs, signal, say);
    if (signal.aborted) throw failure(undefined);
    let sweep: SweepSummary | undefined;
    if (options.sweep) {
      // The sweep finds what no event named; its outcomes join the replay's in the summary.
      sweep = await stack.sweep();
      say(
        `swept ${sweep.workloads} workload(s) in ${sweep.subscriptions.length} subscription(s): ${sweep.inserted} new in Workloads, ${sweep.deleted} removed; ${sweep.requestsSent} scan request(s) for ${sweep.images} image(s)`,
      );
      outcome = await followPipeline(stack, options.timeoutMs, signal, say);
      if (signal.aborted) throw failure(undefined);
    }
    const summary = await summarize(stack, outcome, replay, replayStarted, startedAt);
    if (options.json) {
      io.stdout.line(JSON.stringify({ ...summary, sweep: sweep ?? null, ...where(stack, envFile) }));
    } else {
      io.stdout.line(
        `\n${renderSummary(summary, { envFile, recorderUrl: stack.urls.recorder, running: !options.once }).trimEnd()}`,
      );
    }
    if (options.once) {
      if (summary.complete) return;
      throw new CliError(
        "INCOMPLETE",
        `not fully processed within ${options.timeoutMs / 1000} s: ${summary.left.join("; ")}`,
      );
    }

    if (!summary.complete) say("the summary above is not final: work is still in the pipeline");
    say(
      "the stack keeps running: replay your own events with `npx scanctl replay <file|folder>`; Ctrl-C stops it",
    );
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    if (crashed) throw failure(undefined);
  } catch (error) {
    throw failure(error);
  } finally {
    say("stopping: ingest, scanner and recorder, then the emulators and Azurite");
    await stack.stop();
    await rm(envFile, { force: true });
    say("stopped");
  }
}

interface PipelineOutcome {
  complete: boolean;
  last: ProgressAssessment | undefined;
}

/** Observes the pipeline until it is quiet (see core/completion.ts), the timeout, or a stop. */
async function followPipeline(
  stack: DevStack,
  timeoutMs: number,
  signal: AbortSignal,
  say: (message: string) => void,
): Promise<PipelineOutcome> {
  const deadline = Date.now() + timeoutMs;
  const tracker = new QuietTracker(2);
  let last: ProgressAssessment | undefined;
  let shown = "";
  while (!signal.aborted) {
    try {
      const [partitions, requests, results] = await Promise.all([
        stack.watch.partitions(),
        stack.watch.pendingRequests(),
        stack.watch.pendingResults(),
      ]);
      last = assessProgress({ partitions, requests, results });
      const line = `progress: ${last.eventsProcessed}/${last.eventsTotal} event(s) through ingest, ${last.requestsPending} request(s) queued or scanning, ${last.resultsPending} result(s) to record`;
      if (line !== shown) say(line);
      shown = line;
      if (tracker.observe(last)) return { complete: true, last };
    } catch (error) {
      say(
        `progress: cannot observe the pipeline (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    if (Date.now() > deadline) return { complete: false, last };
    await delay(POLL_MS, undefined, { signal }).catch(() => {});
  }
  return { complete: false, last };
}

async function summarize(
  stack: DevStack,
  outcome: PipelineOutcome,
  replay: ReplayCounts,
  since: Date,
  startedAt: Date,
): Promise<DevSummary> {
  const [results, deadLetters, ingest, coverage] = await Promise.all([
    stack.watch.results(since),
    stack.watch.deadLetters(since),
    stack.watch.ingestCounts(),
    stack.watch.coverage(),
  ]);
  return buildSummary({
    complete: outcome.complete,
    left: outcome.complete ? [] : (outcome.last?.left ?? ["the pipeline could not be observed"]),
    elapsedMs: Date.now() - startedAt.getTime(),
    replay,
    ingest,
    results,
    deadLetters,
    notificationsSent: stack.watch.notificationsSent() ?? [],
    coverage,
  });
}

function where(stack: DevStack, envFile: string) {
  return {
    recorderUrl: stack.urls.recorder,
    statusPageUrl: statusPageUrl(stack.urls.recorder),
    ...(stack.urls.webhooks === undefined ? {} : { webhookSinkUrl: stack.urls.webhooks }),
    envFile,
    scanner: stack.scanner.kind,
    processes: stack.processes(),
  };
}

async function writeScanctlEnv(file: string, values: Record<string, string>): Promise<void> {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const lines = [
    `# Written by npm start (scanctl dev) at ${new Date().toISOString()}; removed when that stack stops.`,
    ...Object.entries(values).map(([name, value]) => `export ${name}=${quote(value)}`),
  ];
  await writeFile(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
