/**
 * Graceful shutdown shared by every service. On SIGTERM or SIGINT: stop taking new work, let work
 * in flight finish until the grace deadline (the drain step gets an AbortSignal that fires at the
 * deadline, so it can abandon what cannot finish and have it redelivered at once), then close
 * clients and servers. A second signal exits at once.
 */
import type { Logger } from "pino";

export type ShutdownPhase = "running" | "stopping" | "stopped";

export interface ServiceLifecycleOptions {
  logger: Logger;
  /** How long in-flight work may take after intake stops. */
  graceMs: number;
  /** Default: `process.exit`. */
  exit?: (code: number) => void;
}

type Step = (deadline: AbortSignal) => Promise<void> | void;

export class ServiceLifecycle {
  readonly #logger: Logger;
  readonly #graceMs: number;
  readonly #exit: (code: number) => void;
  readonly #stopIntake: Step[] = [];
  readonly #drain: Step[] = [];
  readonly #close: Step[] = [];
  #phase: ShutdownPhase = "running";
  #done: Promise<void> | undefined;

  constructor(options: ServiceLifecycleOptions) {
    this.#logger = options.logger;
    this.#graceMs = options.graceMs;
    this.#exit = options.exit ?? ((code) => process.exit(code));
  }

  get phase(): ShutdownPhase {
    return this.#phase;
  }

  /** First step: stop receivers and consumers so no new work starts. */
  onStopIntake(step: Step): this {
    this.#stopIntake.push(step);
    return this;
  }

  /** Second step: wait for work in flight; abandon it when `deadline` fires. */
  onDrain(step: Step): this {
    this.#drain.push(step);
    return this;
  }

  /** Last step, in reverse order of registration: close clients, servers, telemetry. */
  onClose(step: Step): this {
    this.#close.unshift(step);
    return this;
  }

  /** Shuts down on SIGTERM and SIGINT; a second signal exits with status 1 at once. */
  handleSignals(signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT"]): void {
    for (const signal of signals) {
      process.on(signal, () => {
        if (this.#phase !== "running") {
          this.#logger.warn({ signal }, "second signal: exiting now");
          this.#exit(1);
          return;
        }
        void this.shutdown(signal).then(
          () => this.#exit(0),
          () => this.#exit(1),
        );
      });
    }
  }

  shutdown(reason: string): Promise<void> {
    this.#done ??= this.#run(reason);
    return this.#done;
  }

  async #run(reason: string): Promise<void> {
    this.#phase = "stopping";
    const started = Date.now();
    this.#logger.info({ reason, graceMs: this.#graceMs }, "shutting down: intake stopped, draining");
    const deadline = AbortSignal.timeout(this.#graceMs);
    let failed = false;
    const runAll = async (phase: string, steps: Step[], signal: AbortSignal) => {
      for (const step of steps) {
        try {
          await step(signal);
        } catch (error) {
          failed = true;
          this.#logger.error({ err: error, phase }, "shutdown step failed");
        }
      }
    };
    await runAll("stop-intake", this.#stopIntake, deadline);
    await Promise.race([runAll("drain", this.#drain, deadline), aborted(deadline)]);
    if (deadline.aborted)
      this.#logger.warn({ graceMs: this.#graceMs }, "grace period over: closing with work abandoned");
    await runAll("close", this.#close, new AbortController().signal);
    this.#phase = "stopped";
    this.#logger.info({ durationMs: Date.now() - started }, "stopped");
    if (failed) throw new Error("shutdown completed with errors");
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
