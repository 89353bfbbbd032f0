/**
 * Coverage as the API and the gauges serve it: both tables are read at most once per cache period
 * (concurrent askers share one reading); every answer in that period is computed from that reading,
 * judged at the time it was taken.
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
  /** How long one reading of the tables answers. */
  cacheMs: number;
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

  constructor(options: CoverageReportOptions) {
    this.sloHours = options.sloHours;
    this.#now = options.now ?? Date.now;
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
    const { value, computedAt } = await this.#cached.get();
    const at = new Date(computedAt);
    const coverage =
      subscription === undefined
        ? value.all
        : computeCoverage(value.inventory, value.latestOf, { ...this.#judged(at), subscription });
    return { coverage, computedAt: at, lastSweepAt: value.inventory.lastSweepAt };
  }

  #judged(now: Date) {
    return { sloHours: this.sloHours, now };
  }
}
