/**
 * Coverage as the API and the gauges serve it: both tables are read at most once per cache period
 * (concurrent askers share one reading); every answer in that period is computed from that reading,
 * judged at the time it was taken. Once a reading exists, an expired one keeps answering while the
 * next is read (a reading of 10,000 workloads takes seconds), so only the first asker ever waits;
 * `computedAt` says how old the answer is. A cache period of 0 reads for every asker.
 */
import { Cached } from "./cached.ts";
import { type Coverage, computeCoverage, type Inventory } from "./coverage.ts";
import type { LatestStateOf, ScanRecordReader } from "./scanQueries.ts";

export interface WorkloadReader {
  /** Every workload and the sweep marker: a whole-table read. */
  inventory(): Promise<Inventory>;
}

export interface CoverageReportOptions {
  workloads: WorkloadReader;
  states: Pick<ScanRecordReader, "allStates">;
  sloHours: number;
  /** How long one reading of the tables answers before the next is started. */
  cacheMs: number;
  /** A reading started while an older one answered failed (the older one keeps answering). */
  onRefreshFailed: (error: unknown) => void;
  now?: () => number;
}

export interface CoverageAnswer {
  coverage: Coverage;
  computedAt: Date;
  lastSweepAt: Date | undefined;
}

interface Reading {
  inventory: Inventory;
  latestOf: LatestStateOf;
  /** Coverage of every subscription, computed once per reading. */
  all: Coverage;
}

export class CoverageReport {
  readonly sloHours: number;
  readonly #cached: Cached<Reading>;
  readonly #now: () => number;
  readonly #serveExpired: boolean;
  readonly #onRefreshFailed: (error: unknown) => void;
  #refreshing = false;

  constructor(options: CoverageReportOptions) {
    this.sloHours = options.sloHours;
    this.#now = options.now ?? Date.now;
    this.#onRefreshFailed = options.onRefreshFailed;
    this.#serveExpired = options.cacheMs > 0;
    this.#cached = new Cached(
      options.cacheMs,
      async () => {
        const readAt = new Date(this.#now());
        const [inventory, latestOf] = await Promise.all([
          options.workloads.inventory(),
          options.states.allStates(),
        ]);
        return { inventory, latestOf, all: computeCoverage(inventory, latestOf, this.#judged(readAt)) };
      },
      this.#now,
    );
  }

  /** Coverage of every workload, or of one subscription's. */
  async get(subscription?: string): Promise<CoverageAnswer> {
    const { value, computedAt } = await this.#reading();
    const at = new Date(computedAt);
    const coverage =
      subscription === undefined
        ? value.all
        : computeCoverage(value.inventory, value.latestOf, { ...this.#judged(at), subscription });
    return { coverage, computedAt: at, lastSweepAt: value.inventory.lastSweepAt };
  }

  async #reading() {
    const previous = this.#cached.latest();
    const next = this.#cached.get();
    if (previous === undefined || !this.#serveExpired) return next;
    if (this.#refreshing) {
      // The asker that started this reading reports its failure, once.
      next.catch(() => {});
    } else {
      this.#refreshing = true;
      next.catch(this.#onRefreshFailed).finally(() => {
        this.#refreshing = false;
      });
    }
    // The fresh value when the cache had not expired (get() answered with it), else the previous one.
    return previous;
  }

  #judged(now: Date) {
    return { sloHours: this.sloHours, now };
  }
}
