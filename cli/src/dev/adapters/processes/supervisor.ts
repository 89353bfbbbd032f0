/**
 * Runs the local stack's processes: each in its own process group (so a terminal's Ctrl-C reaches
 * only the supervisor, which stops them), every output line prefixed with the process's
 * name, unexpected exits restarted (with a restart policy) or reported, and on stop SIGTERM to the group, then SIGKILL to whatever is
 * left of it after a grace period. If the supervisor itself exits without stopping them, the
 * groups are killed on the way out; if it is killed (SIGKILL runs nothing), each process's fd 3,
 * a socket to the supervisor, closes: a Node process started with the lifeline preload
 * (`@qcs/emulators`' `lifelinePath`) then stops itself.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { LineSplitter, prefixLine } from "../../core/lineSplitter.ts";

export interface ProcessSpec {
  name: string;
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd?: string;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: string;
}

export interface SupervisedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<ExitStatus>;
  /** Undefined while it runs. */
  exitStatus(): ExitStatus | undefined;
}

export interface ProcessSupervisorOptions {
  /** Receives every output line of every process, prefixed with its name. */
  writeLine: (line: string) => void;
  /** Colours a (padded) name; default: unchanged. */
  paint?: (name: string) => string;
  /** Width names are padded to. Default: 8. */
  nameWidth?: number;
  /** Time from SIGTERM to SIGKILL of a process group. Default: 10 s. */
  graceMs?: number;
  /** Restart a process that exits without being asked to; default: never. */
  restart?: RestartPolicy;
  /** A process exited without being asked to and will be started again after `delayMs`. */
  onRestart?: (
    process: SupervisedProcess,
    status: ExitStatus,
    restart: { count: number; delayMs: number },
  ) => void;
  /** A process exited without being asked to, and is not restarted (no policy, or it is spent). */
  onUnexpectedExit?: (process: SupervisedProcess, status: ExitStatus) => void;
  /** A process was started (its PID is known). */
  onSpawn?: (process: SupervisedProcess) => void;
}

export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; the next unexpected exit is final. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the `count`-th restart within the window (1-based). */
  delayMs: (count: number) => number;
}

/** How long output may trail the exit of a process (a pipe held open elsewhere must not hang a stop). */
const OUTPUT_DRAIN_MS = 2000;

interface Entry {
  spec: ProcessSpec;
  /** The latest run. */
  handle: SupervisedProcess;
  stopping: boolean;
  /** When its recent restarts were decided. */
  restarts: number[];
  pendingRestart?: NodeJS.Timeout;
}

export class ProcessSupervisor {
  readonly #options: ProcessSupervisorOptions;
  readonly #entries: Entry[] = [];
  readonly #killOnExit = () => {
    for (const entry of this.#entries) {
      if (entry.handle.exitStatus() === undefined) signalGroup(entry.handle.pid, "SIGKILL");
    }
  };

  constructor(options: ProcessSupervisorOptions) {
    this.#options = options;
    process.on("exit", this.#killOnExit);
  }

  get processes(): readonly SupervisedProcess[] {
    return this.#entries.map((entry) => entry.handle);
  }

  start(spec: ProcessSpec): SupervisedProcess {
    const entry: Entry = { spec, stopping: false, restarts: [], handle: this.#run(spec) };
    this.#entries.push(entry);
    this.#watch(entry);
    return entry.handle;
  }

  #run(spec: ProcessSpec): SupervisedProcess {
    const child: ChildProcess = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: definedOnly(spec.env),
      // fd 3: the lifeline, closed by the kernel when this process ends.
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      detached: true,
    });
    let status: ExitStatus | undefined;
    const write = (line: string) =>
      this.#options.writeLine(
        prefixLine(spec.name, this.#options.nameWidth ?? 8, line, this.#options.paint ?? ((name) => name)),
      );
    const drained = Promise.all([pipeLines(child.stdout, write), pipeLines(child.stderr, write)]);
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("error", (error) => {
        // Spawning failed (no such executable): there is no process and no 'exit' event.
        if (child.pid === undefined) resolve({ code: null, signal: null, error: error.message });
      });
      child.once("exit", (code, signal) => {
        // Anything the process left in its group goes with it (and would hold its output open).
        if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
        resolve({ code, signal });
      });
    }).then(async (result) => {
      await Promise.race([drained, delay(OUTPUT_DRAIN_MS, undefined, { ref: false })]);
      status = result;
      return result;
    });
    const handle = { name: spec.name, pid: child.pid ?? -1, exited, exitStatus: () => status };
    if (child.pid !== undefined) this.#options.onSpawn?.(handle);
    return handle;
  }

  /** On an unexpected exit: a restart after a delay while the policy allows one, else the report. */
  #watch(entry: Entry): void {
    const run = entry.handle;
    void run.exited.then((result) => {
      if (entry.stopping) return;
      const policy = this.#options.restart;
      const now = Date.now();
      entry.restarts = entry.restarts.filter((at) => now - at < (policy?.windowMs ?? 0));
      // A process that cannot be started at all would fail the same way again.
      if (!policy || result.error !== undefined || entry.restarts.length >= policy.maxRestarts) {
        this.#options.onUnexpectedExit?.(run, result);
        return;
      }
      entry.restarts.push(now);
      const delayMs = policy.delayMs(entry.restarts.length);
      this.#options.onRestart?.(run, result, { count: entry.restarts.length, delayMs });
      entry.pendingRestart = setTimeout(() => {
        entry.pendingRestart = undefined;
        entry.handle = this.#run(entry.spec);
        this.#watch(entry);
      }, delayMs);
    });
  }

  /** SIGTERM to the process's group, SIGKILL to the group after the grace period. */
  async stop(target: SupervisedProcess): Promise<ExitStatus> {
    const entry = this.#entries.find((candidate) => candidate.spec.name === target.name);
    if (!entry) throw new Error(`${target.name} is not supervised here`);
    entry.stopping = true;
    clearTimeout(entry.pendingRestart);
    // Its latest run, which is not the one given if it was restarted since.
    const handle = entry.handle;
    if (handle.exitStatus() === undefined && handle.pid > 0) {
      signalGroup(handle.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(handle.pid, "SIGKILL"), this.#options.graceMs ?? 10_000);
      await handle.exited;
      clearTimeout(timer);
    }
    return handle.exited;
  }

  /**
   * Stops every process at once: the stack's services talk only through the broker and storage,
   * which outlive them, so what one leaves unsent or unread waits there, and a slow drain (a scan
   * finishing) does not hold up the others' stops.
   */
  async stopAll(): Promise<void> {
    await Promise.all(this.#entries.map((entry) => this.stop(entry.handle)));
    process.removeListener("exit", this.#killOnExit);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

async function pipeLines(stream: Readable | null, write: (line: string) => void): Promise<void> {
  if (!stream) return;
  const splitter = new LineSplitter();
  stream.setEncoding("utf8");
  for await (const chunk of stream) for (const line of splitter.push(chunk as string)) write(line);
  for (const line of splitter.flush()) write(line);
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
