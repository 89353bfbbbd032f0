/**
 * The outcome of one replay through the local stack, assembled from what the pipeline itself
 * reports: the recorder's results and coverage, the dead-letter queues and ingest's counters.
 */
import {
  type CoverageTotals,
  ENTITY_DEFAULTS,
  type HistoryScan,
  type VulnerabilityCounts,
} from "@qcs/shared";

/** One ScanCompleted as the recorder's API returns it: the fields the summary uses. */
export type RecordedResult = Pick<
  HistoryScan,
  | "ref"
  | "registry"
  | "repository"
  | "tag"
  | "digest"
  | "status"
  | "skipReason"
  | "attempt"
  | "finishedAt"
  | "vulnerabilities"
  | "error"
>;

export interface DeadLetter {
  /** `scan-requests`, `scan-requests-sweep` or `scan-completed/recorder`. */
  entity: string;
  reason: string;
  description: string | undefined;
  imageRef: string | undefined;
}

/** What ingest counted (its /metrics). */
export interface IngestCounts {
  recordsRead: number;
  recordsSelected: number;
  recordsSkipped: Record<string, number>;
  imagesFound: number;
  imagesDropped: Record<string, number>;
  duplicatesCollapsed: number;
  requestsSent: number;
  /** Events checkpointed past after INGEST_RETRY_GIVE_UP_SECONDS of failing, by failure kind. */
  eventsGivenUp: Record<string, number>;
}

export interface ReplayCounts {
  events: number;
  activityLogRecords: number;
  eventGridEvents: number;
  cloudEvents: number;
  files: number;
}

export interface ImageOutcome {
  ref: string;
  /** `scanned`, `skipped (cached)`, `failed`, or `dead-lettered` when no result was recorded. */
  outcome: "scanned" | "skipped-cached" | "failed" | "dead-lettered";
  /** The digest the image's tag resolved to (of the result shown), when known. */
  digest: string | undefined;
  /** ScanCompleted results recorded for this image during the run. */
  results: number;
  /** Attempts the recorded result took. */
  attempt: number | undefined;
  vulnerabilities: VulnerabilityCounts | undefined;
  /** Failure class and dead-letter reason, when it failed. */
  reason: string | undefined;
}

/** The recorder's coverage totals (`GET /api/coverage`): zeros while Workloads is empty. */
export interface DevCoverage {
  sloHours: number;
  totals: CoverageTotals;
}

export interface DevSummary {
  complete: boolean;
  /** What was still in the pipeline when the summary was taken (empty when complete). */
  left: string[];
  elapsedMs: number;
  replay: ReplayCounts;
  ingest: IngestCounts;
  images: {
    requested: number;
    scanned: number;
    skippedCached: number;
    failed: number;
    deadLettered: number;
    /** Image references ingest found in deployments but never requested, by reason. */
    notRequested: Record<string, number>;
  };
  deadLetters: { byReason: Record<string, number>; items: DeadLetter[] };
  imageOutcomes: ImageOutcome[];
  coverage: DevCoverage;
  /** Sent: accepted by the local sink (empty when NOTIFY_WEBHOOKS replaced it); failed: dead-lettered. */
  notifications: { sent: number; failed: number; items: NotificationSent[] };
}

export interface NotificationSent {
  type: string;
  ref: string;
}

export interface SummaryInput {
  complete: boolean;
  left: string[];
  elapsedMs: number;
  replay: ReplayCounts;
  ingest: IngestCounts;
  results: readonly RecordedResult[];
  deadLetters: readonly DeadLetter[];
  coverage: DevCoverage;
  notificationsSent: readonly NotificationSent[];
}

export const NOTIFICATIONS_ENTITY = ENTITY_DEFAULTS.NOTIFICATIONS_QUEUE;

/** The request queues whose dead letters are images that ended dead-lettered: deployments' and the sweep's. */
export const REQUEST_ENTITIES = [
  ENTITY_DEFAULTS.SCAN_REQUESTS_QUEUE,
  ENTITY_DEFAULTS.SCAN_REQUESTS_SWEEP_QUEUE,
] as const;
const isRequestEntity = (entity: string) => (REQUEST_ENTITIES as readonly string[]).includes(entity);

/**
 * The reference an image was requested by: the tag form when the result has a tag (the recorder
 * stores the digest form once a scan found it), else the reference itself.
 */
export function requestedRef(result: RecordedResult): string {
  return result.tag === undefined ? result.ref : `${result.registry}/${result.repository}:${result.tag}`;
}

export function buildSummary(input: SummaryInput): DevSummary {
  const byRef = new Map<string, RecordedResult[]>();
  for (const result of input.results) {
    const ref = requestedRef(result);
    const list = byRef.get(ref) ?? [];
    list.push(result);
    byRef.set(ref, list);
  }
  const requestDeadLetters = input.deadLetters.filter((letter) => isRequestEntity(letter.entity));
  const deadLetterReasons = new Map<string, string>();
  for (const letter of requestDeadLetters) {
    if (letter.imageRef !== undefined) deadLetterReasons.set(letter.imageRef, letter.reason);
  }

  const outcomes: ImageOutcome[] = [];
  for (const [ref, results] of byRef) {
    const latest = [...results].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0] as RecordedResult;
    const succeeded = results.find((result) => result.status === "succeeded");
    const shown = succeeded ?? latest;
    outcomes.push({
      ref,
      outcome: succeeded
        ? "scanned"
        : shown.status === "skipped"
          ? "skipped-cached"
          : deadLetterReasons.has(ref)
            ? "dead-lettered"
            : "failed",
      digest: shown.digest,
      results: results.length,
      attempt: shown.attempt,
      vulnerabilities: shown.vulnerabilities,
      reason: succeeded ? undefined : (deadLetterReasons.get(ref) ?? shown.error?.class),
    });
  }
  for (const [ref, reason] of deadLetterReasons) {
    if (byRef.has(ref)) continue;
    outcomes.push({
      ref,
      outcome: "dead-lettered",
      digest: undefined,
      results: 0,
      attempt: undefined,
      vulnerabilities: undefined,
      reason,
    });
  }
  outcomes.sort((a, b) => a.ref.localeCompare(b.ref));

  const byReason: Record<string, number> = {};
  for (const letter of input.deadLetters) {
    const key = isRequestEntity(letter.entity) ? letter.reason : `${letter.reason} (${letter.entity})`;
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  const count = (outcome: ImageOutcome["outcome"]) =>
    outcomes.filter((image) => image.outcome === outcome).length;

  return {
    complete: input.complete,
    left: input.left,
    elapsedMs: input.elapsedMs,
    replay: input.replay,
    ingest: input.ingest,
    images: {
      requested: outcomes.length,
      scanned: count("scanned"),
      skippedCached: count("skipped-cached"),
      failed: count("failed"),
      deadLettered: count("dead-lettered"),
      notRequested: Object.fromEntries(
        Object.entries(input.ingest.imagesDropped).filter(([, value]) => value > 0),
      ),
    },
    deadLetters: { byReason, items: [...input.deadLetters] },
    imageOutcomes: outcomes,
    coverage: input.coverage,
    notifications: {
      sent: input.notificationsSent.length,
      failed: input.deadLetters.filter((letter) => letter.entity === NOTIFICATIONS_ENTITY).length,
      items: [...input.notificationsSent].sort(
        (a, b) => a.type.localeCompare(b.type) || a.ref.localeCompare(b.ref),
      ),
    },
  };
}
