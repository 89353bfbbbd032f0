/**
 * The recorder's HTTP API answers (`/api/scans`, `/api/images/{ref}`, `/api/history`, `/api/stats`,
 * `/api/coverage`, `/api/failures`)
 * as zod schemas, declared once: the recorder serialises with them and derives its OpenAPI
 * document from them, and scanctl validates what it reads with the same schemas.
 */
import { z } from "zod";
import { SCAN_STATUSES } from "./schemas.ts";

const isoTime = z.string().describe("ISO 8601 time");

export const VulnerabilityCountsSchema = z.object({
  critical: z.number().int(),
  high: z.number().int(),
  medium: z.number().int(),
  low: z.number().int(),
  informational: z.number().int(),
  total: z.number().int(),
});

export const LatestScanSchema = z
  .object({
    ref: z.string().describe("the reference this state is kept under"),
    registry: z.string(),
    repository: z.string(),
    tag: z.string().optional(),
    digest: z.string().optional(),
    status: z.enum(SCAN_STATUSES),
    lastScanId: z.string(),
    lastScanAt: isoTime,
    lastSeenAt: isoTime.describe("latest result of any kind, cached skips included"),
    lastSuccessAt: isoTime.optional(),
    scanCount: z.number().int(),
    vulnerabilities: VulnerabilityCountsSchema.optional().describe("findings of the latest successful scan"),
    error: z.object({ class: z.string(), message: z.string().optional() }).optional(),
    scannerVersion: z.string().optional(),
    qualysImageId: z.string().optional(),
    resourceIds: z.array(z.string()).describe("where the image runs, newest first (at most 20)"),
  })
  .describe("latest state of one image reference");

export const HistoryScanSchema = z.object({
  scanId: z.string(),
  requestId: z.string(),
  ref: z.string(),
  registry: z.string(),
  repository: z.string(),
  tag: z.string().optional(),
  digest: z.string().optional(),
  status: z.enum(SCAN_STATUSES),
  skipReason: z.string().optional(),
  attempt: z.number().int(),
  startedAt: isoTime,
  finishedAt: isoTime,
  durationMs: z.number().int(),
  scanner: z.object({ name: z.string(), version: z.string(), mode: z.string() }),
  vulnerabilities: VulnerabilityCountsSchema.optional(),
  qualys: z
    .object({ pod: z.string(), imageId: z.string().optional(), imageSha: z.string().optional() })
    .optional(),
  error: z
    .object({ class: z.string(), message: z.string().optional(), exitCode: z.number().int().optional() })
    .optional(),
  sources: z.array(z.record(z.string(), z.unknown())).describe("first 20 sources of the result"),
  sourceCount: z.number().int(),
});

const continuation = z.string().optional().describe("pass as `continuation` to get the next page");

export const LatestPageSchema = z.object({ items: z.array(LatestScanSchema), continuation });
export const HistoryPageSchema = z.object({ items: z.array(HistoryScanSchema), continuation });
export const ImageWorkloadSchema = z.object({
  resourceId: z.string(),
  subscriptionId: z.string(),
  resourceGroup: z.string(),
  name: z.string(),
  kind: z.string(),
  containers: z.array(z.string()).describe("the workload's containers that run this image"),
});
export const ImageDetailSchema = z.object({
  ref: z.string().describe("the canonical form of the requested reference"),
  latest: LatestScanSchema.nullable(),
  history: HistoryPageSchema,
  workloads: z
    .array(ImageWorkloadSchema)
    .describe("where it runs now (Workloads, as of the coverage reading), by resource ID"),
});
export const StatsSchema = z.object({
  images: z
    .number()
    .int()
    .describe("image references with a latest state (tag aliases of digests not counted)"),
  byStatus: z.object({ succeeded: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  vulnerabilities: VulnerabilityCountsSchema.describe("sum of each image's latest successful scan"),
  lastScanAt: isoTime.optional(),
  computedAt: isoTime.describe("when these counts were taken (they are cached for a short time)"),
});

/** How a running image stands against the coverage SLO (see `CoverageSchema`). */
export const COVERAGE_STATES = ["current", "stale", "failing", "neverScanned"] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

const count = z.number().int().nonnegative();

export const CoverageTotalsSchema = z
  .object({
    workloads: count.describe("workloads (container groups, apps, jobs) in Workloads"),
    images: count.describe("distinct image references those workloads run"),
    current: count,
    stale: count,
    failing: count,
    neverScanned: count,
  })
  .describe("images by state; the four states add up to `images`");

export const CoverageItemSchema = z.object({
  ref: z.string().describe("canonical image reference as the workloads run it"),
  state: z.enum(COVERAGE_STATES),
  lastScanAt: isoTime.optional().describe("finish time of the latest scan of any outcome"),
  lastStatus: z.enum(SCAN_STATUSES).optional(),
  lastSuccessAt: isoTime.optional(),
  vulnerabilities: VulnerabilityCountsSchema.optional().describe("findings of the latest successful scan"),
  workloads: count.describe("workloads running this image"),
  resources: z.array(z.string()).describe("resource IDs of those workloads (at most 20)"),
  resourcesTruncated: z.boolean(),
});

export const CoverageSchema = z.object({
  sloHours: count.describe("COVERAGE_SLO_HOURS: a success older than this is stale"),
  computedAt: isoTime.describe("when the tables were read (cached for COVERAGE_CACHE_SECONDS)"),
  lastSweepAt: isoTime.nullable().describe("when the last inventory sweep finished; null before the first"),
  totals: CoverageTotalsSchema.describe("of every image matching `subscription` (not narrowed by `state`)"),
  matched: count.describe("images matching `state`, `registry` and `minSeverity`, on every page"),
  items: z.array(CoverageItemSchema),
  next: z.string().optional().describe("pass as `continuation` to get the next page"),
});

export const FailureReasonSchema = z.object({
  reason: z.string().describe("the failure class, which is the dead-letter reason"),
  count: count.describe("failed scans of this class in the window"),
  images: count.describe("distinct image references among them"),
  lastAt: isoTime,
  remedy: z.string().optional().describe("what to do about it"),
});
export const FailuresSchema = z.object({
  since: isoTime.describe("start of the window (24 h before the reading)"),
  computedAt: isoTime.describe("when the timeline was read (cached for RECORDER_STATS_CACHE_SECONDS)"),
  total: count.describe("failed scans in the window"),
  scanned: count.describe("results of any status read from the timeline for the window"),
  truncated: z
    .boolean()
    .describe("the window held more results than one reading reads; counts are lower bounds"),
  reasons: z.array(FailureReasonSchema).describe("most frequent first"),
  items: z.array(HistoryScanSchema).describe("the failed scans matching `reason`, newest first, one page"),
  next: z.string().optional().describe("pass as `continuation` to get the next page"),
});

export type CoverageTotals = z.infer<typeof CoverageTotalsSchema>;
export type FailuresView = z.infer<typeof FailuresSchema>;
export type ImageWorkload = z.infer<typeof ImageWorkloadSchema>;
export type CoverageItem = z.infer<typeof CoverageItemSchema>;
export type CoverageView = z.infer<typeof CoverageSchema>;
export type LatestScan = z.infer<typeof LatestScanSchema>;
export type HistoryScan = z.infer<typeof HistoryScanSchema>;
export type LatestPage = z.infer<typeof LatestPageSchema>;
export type HistoryPage = z.infer<typeof HistoryPageSchema>;
export type ImageDetail = z.infer<typeof ImageDetailSchema>;
export type ScanStatsView = z.infer<typeof StatsSchema>;

/** RFC 9457 problem details: every error the API returns. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
  })
  .describe("RFC 9457 problem details");
export type Problem = z.infer<typeof ProblemSchema>;
