/**
 * Log sampling for one batch: the first few lines of each reason are written, the rest only
 * counted, and one summary line gives the counts, so the log volume of a hostile or broken body
 * does not grow with its size (metrics keep the exact counts).
 */
import type { Logger } from "@qcs/shared";

export const SAMPLES_PER_REASON = 3;

export class SampledLog {
  readonly #logger: Logger;
  readonly #counts = new Map<string, number>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  warn(reason: string, context: Record<string, unknown>, message: string): void {
    const count = (this.#counts.get(reason) ?? 0) + 1;
    this.#counts.set(reason, count);
    if (count <= SAMPLES_PER_REASON) this.#logger.warn({ ...context, reason }, message);
  }

  /** One line with every reason's count, when lines were left out. */
  summarize(): void {
    if (![...this.#counts.values()].some((count) => count > SAMPLES_PER_REASON)) return;
    this.#logger.warn(
      { counts: Object.fromEntries(this.#counts), samplesPerReason: SAMPLES_PER_REASON },
      "more malformed input in this batch than logged: lines left out, counted by reason",
    );
  }
}
