import type { QscannerProcess, QscannerRunOptions, QscannerRunResult } from "../../src/core/ports.ts";

/** Passes every run to the real runner and counts runs and the most that ran at once. */
export class ObservedRunner implements QscannerProcess {
  readonly #inner: QscannerProcess;
  runs = 0;
  running = 0;
  maxRunning = 0;

  constructor(inner: QscannerProcess) {
    this.#inner = inner;
  }

  async run(options: QscannerRunOptions): Promise<QscannerRunResult> {
    this.runs += 1;
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await this.#inner.run(options);
    } finally {
      this.running -= 1;
    }
  }
}
