/**
 * The questions both the API and the status page ask, answered once: statistics and recent
 * failures from readings cached like coverage's, one image with its history and where it runs.
 * Each page number and its `/api/*` twin come from the same call.
 */
import type { ImageRef, ScanMetadataEntity } from "@qcs/shared";
import { Cached, type CachedValue } from "./cached.ts";
import type { CoverageReport, ImageRun } from "./coverageReport.ts";
import { type RecentFailures, readRecentFailures } from "./recentFailures.ts";
import {
  type HistoryPage,
  type HistoryPageRequest,
  type ScanRecordReader,
  type ScanStats,
  summarize,
} from "./scanQueries.ts";

/** The window of "recent" failures. */
export const FAILURE_WINDOW_HOURS = 24;

export interface RecorderQueriesOptions {
  reader: ScanRecordReader;
  coverage: CoverageReport;
  /** Statistics and recent failures are read at most once per this period. */
  statsCacheMs: number;
  /** A reading started while an older one answered failed (the older one keeps answering). */
  onRefreshFailed: (error: unknown) => void;
  now?: () => number;
}

export interface ImageDetailAnswer {
  latest: ScanMetadataEntity | undefined;
  history: HistoryPage;
  runs: ImageRun[];
}

export class RecorderQueries {
  readonly reader: ScanRecordReader;
  readonly coverage: CoverageReport;
  readonly #stats: Cached<ScanStats>;
  readonly #failures: Cached<RecentFailures>;
  readonly #onRefreshFailed: (error: unknown) => void;

  constructor(options: RecorderQueriesOptions) {
    const now = options.now ?? Date.now;
    this.reader = options.reader;
    this.coverage = options.coverage;
    this.#onRefreshFailed = options.onRefreshFailed;
    this.#stats = new Cached(options.statsCacheMs, async () => summarize(await options.reader.all()), now);
    this.#failures = new Cached(
      options.statsCacheMs,
      () => readRecentFailures(options.reader, new Date(now() - FAILURE_WINDOW_HOURS * 3_600_000)),
      now,
    );
  }

  /** Images by status and findings; an expired count answers while the next is taken. */
  stats(): Promise<CachedValue<ScanStats>> {
    return this.#stats.current(this.#onRefreshFailed);
  }

  /** Failed scans of the last {@link FAILURE_WINDOW_HOURS}; an expired reading answers while the next is read. */
  failures(): Promise<CachedValue<RecentFailures>> {
    return this.#failures.current(this.#onRefreshFailed);
  }

  /** Latest state, one page of history (newest first) and the workloads that run it now. */
  async image(image: ImageRef, page: HistoryPageRequest): Promise<ImageDetailAnswer> {
    const [latest, history, runs] = await Promise.all([
      this.reader.latestOf(image),
      this.reader.historyOf(image, page),
      this.coverage.runsOf(image.ref),
    ]);
    return { latest, history, runs };
  }
}
