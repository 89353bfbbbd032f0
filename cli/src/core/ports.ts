/**
 * What the commands need from the outside world, named for their use. Adapters implement these
 * over the Azure SDKs, HTTP and files; `main.ts` builds them.
 */
import type {
  CoverageView,
  HistoryPage,
  ImageDetail,
  LatestPage,
  OutgoingMessage,
  ScanRequested,
  ScanStatsView,
} from "@qcs/shared";
import type { DeadLetter } from "./deadLetters.ts";
import type { ReplayBody } from "./replayInput.ts";
import type { SettleOptions, SettleReport } from "./settlement.ts";

export interface PeekResult {
  /** In sequence-number order. */
  deadLetters: DeadLetter[];
  /** True when the peek stopped at `maxMessages` with more left in the queue. */
  truncated: boolean;
}

export interface DeadLetterQueue {
  /** `scan-requests/$DeadLetterQueue`, `scan-completed/Subscriptions/recorder/$DeadLetterQueue`. */
  readonly path: string;
  /** Where resubmitted copies go. */
  readonly resubmitTo: string;
  /** Browses without locking anything. */
  peek(options: { maxMessages: number }): Promise<PeekResult>;
  peekOne(sequenceNumber: bigint): Promise<DeadLetter | undefined>;
  resubmit(selected: ReadonlySet<bigint>, options?: SettleOptions): Promise<SettleReport>;
  purge(selected: ReadonlySet<bigint>, options?: SettleOptions): Promise<SettleReport>;
}

export interface EntityCounts {
  /** `scan-requests`, `scan-completed/recorder`. */
  entity: string;
  active: number;
  scheduled: number;
  deadLettered: number;
}

export interface EntityCountsReader {
  counts(): Promise<EntityCounts[]>;
}

export interface ScanRequestSender {
  send(message: OutgoingMessage<ScanRequested>): Promise<void>;
}

export interface EventSender {
  /**
   * Sends in order, in as few batches as fit; returns the number of events sent (an oversized
   * Activity Log body becomes several). `onSent` after each batch with the events so far.
   */
  send(bodies: readonly ReplayBody[], onSent?: (sent: number) => void): Promise<number>;
}

export type ReplayInput = { name: string; text: string } | { name: string; error: string };

export interface ReplayInputReader {
  /** Each file of the paths (folders: their `.json`/`.jsonl` files, recursively; `-`: stdin). */
  read(paths: readonly string[]): AsyncIterable<ReplayInput>;
}

export interface ScanListQuery {
  status?: string | undefined;
  registry?: string | undefined;
  /** ISO time: only images scanned since. */
  since?: string | undefined;
  limit: number;
  continuation?: string | undefined;
}

export interface CoverageQuery {
  state?: string | undefined;
  subscription?: string | undefined;
  limit: number;
  continuation?: string | undefined;
}

export interface RecorderApi {
  listScans(query: ScanListQuery): Promise<LatestPage>;
  /** Undefined when the recorder has no scan of the image. */
  image(ref: string, options: { limit: number }): Promise<ImageDetail | undefined>;
  /** Every recorded result, newest first, a page at a time. */
  history(page: { limit: number; continuation?: string | undefined }): Promise<HistoryPage>;
  stats(): Promise<ScanStatsView>;
  /** One page of running images against the coverage SLO, with the totals. */
  coverage(query: CoverageQuery): Promise<CoverageView>;
}

export interface Progress {
  update(done: number): void;
  /** Removes the bar; call before printing anything else. */
  stop(): void;
}

/**
 * Where commands write: results to stdout, diagnostics to stderr. Human output (`out`, `err`,
 * `painted`) shows control characters as visible escapes; `json` is written as it is.
 */
export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  /** Lines the local stack formatted itself, possibly coloured: colours kept, other controls escaped. */
  painted(stream: "out" | "err", text: string): void;
  /** A progress bar on an interactive terminal; does nothing otherwise or when `enabled` is false. */
  progress(label: string, total: number, enabled: boolean): Progress;
}
