/**
 * Coverage as the API and the gauges serve it: both tables are read at most once per cache period
 * (concurrent askers share one reading); every answer in that period is computed from that reading,
 * judged at the time it was taken. Once a reading exists, an expired one keeps answering while the
 * next is read (a reading of 10,000 workloads takes seconds), so only the first asker ever waits;
 * `computedAt` says how old the answer is. A cache period of 0 reads for every asker.
 */
import { Cached } from "./cached.ts";
import { type Coverage, type CoverageWorkload, computeCoverage, type Inventory } from "./coverage.ts";
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
  /** Workloads by the references they run, built on first use. */
  runners?: Map<string, CoverageWorkload[]>;
}

/** Where one image runs: a workload and the containers of it that run the image. */
export interface ImageRun {
  workload: CoverageWorkload;
  containers: string[];
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

  /** The workloads that run `ref` (canonical), as of the same reading as {@link get}. */
  async runsOf(ref: string): Promise<ImageRun[]> {
    const { value } = await this.#reading();
    value.runners ??= indexRunners(value.inventory.workloads);
    return (value.runners.get(ref) ?? []).map((workload) => ({
      workload,
      containers: workload.images.filter((image) => image.ref === ref).map((image) => image.container),
    }));
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

function indexRunners(workloads: CoverageWorkload[]): Map<string, CoverageWorkload[]> {
  const runners = new Map<string, CoverageWorkload[]>();
  for (const workload of workloads) {
    for (const ref of new Set(workload.images.map((image) => image.ref))) {
      const list = runners.get(ref) ?? [];
      list.push(workload);
      runners.set(ref, list);
    }
  }
  for (const list of runners.values()) list.sort((a, b) => (a.resourceId < b.resourceId ? -1 : 1));
  return runners;
}
