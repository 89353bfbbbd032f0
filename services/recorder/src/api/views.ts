/**
 * What the API returns: zod schemas (validation, serialisation and the OpenAPI document come
 * from them) and the mapping from stored rows to those shapes.
 */
import { SCAN_STATUSES, type ScanMetadataEntity, vulnerabilityCountsOf } from "@qcs/shared";
import { z } from "zod";
import type { ScanHistoryEntity } from "../core/scanHistory.ts";
import { resourceIdsOf } from "../core/scanMetadata.ts";
import type { ScanStats } from "../core/scanQueries.ts";

const isoTime = z.string().describe("ISO 8601 time");

const Vulnerabilities = z.object({
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
    vulnerabilities: Vulnerabilities.optional().describe("findings of the latest successful scan"),
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
  vulnerabilities: Vulnerabilities.optional(),
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
export const ImageDetailSchema = z.object({
  ref: z.string().describe("the canonical form of the requested reference"),
  latest: LatestScanSchema.nullable(),
  history: HistoryPageSchema,
});
export const StatsSchema = z.object({
  images: z
    .number()
    .int()
    .describe("image references with a latest state (tag aliases of digests not counted)"),
  byStatus: z.object({ succeeded: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  vulnerabilities: Vulnerabilities.describe("sum of each image's latest successful scan"),
  lastScanAt: isoTime.optional(),
});

/** Drops undefined members, so optional fields are absent rather than null in the JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

export function latestView(row: ScanMetadataEntity): z.infer<typeof LatestScanSchema> {
  return compact({
    ref: row.Ref,
    registry: row.Registry,
    repository: row.Repository,
    tag: row.Tag,
    digest: row.Digest,
    status: row.Status,
    lastScanId: row.LastScanId,
    lastScanAt: row.LastScanAt.toISOString(),
    lastSeenAt: row.LastSeenAt.toISOString(),
    lastSuccessAt: row.LastSuccessAt?.toISOString(),
    scanCount: row.ScanCount,
    vulnerabilities: vulnerabilityCountsOf(row),
    error:
      row.ErrorClass === undefined
        ? undefined
        : compact({ class: row.ErrorClass, message: row.ErrorMessage }),
    scannerVersion: row.ScannerVersion,
    qualysImageId: row.QualysImageId,
    resourceIds: resourceIdsOf(row),
  });
}

export function historyView(row: ScanHistoryEntity): z.infer<typeof HistoryScanSchema> {
  let sources: Array<Record<string, unknown>> = [];
  try {
    const parsed: unknown = JSON.parse(row.Sources);
    if (Array.isArray(parsed)) sources = parsed.filter((item) => typeof item === "object" && item !== null);
  } catch {
    // A damaged column loses the sources of one row, not the row.
  }
  return compact({
    scanId: row.ScanId,
    requestId: row.RequestId,
    ref: row.Ref,
    registry: row.Registry,
    repository: row.Repository,
    tag: row.Tag,
    digest: row.Digest,
    status: row.Status,
    skipReason: row.SkipReason,
    attempt: row.Attempt,
    startedAt: new Date(row.StartedAt).toISOString(),
    finishedAt: new Date(row.FinishedAt).toISOString(),
    durationMs: row.DurationMs,
    scanner: { name: row.ScannerName, version: row.ScannerVersion, mode: row.ScannerMode },
    vulnerabilities: vulnerabilityCountsOf(row),
    qualys:
      row.QualysPod === undefined
        ? undefined
        : compact({ pod: row.QualysPod, imageId: row.QualysImageId, imageSha: row.QualysImageSha }),
    error:
      row.ErrorClass === undefined
        ? undefined
        : compact({ class: row.ErrorClass, message: row.ErrorMessage, exitCode: row.ExitCode }),
    sources,
    sourceCount: row.SourceCount,
  });
}

export function statsView(stats: ScanStats): z.infer<typeof StatsSchema> {
  return compact({ ...stats, lastScanAt: stats.lastScanAt?.toISOString() });
}
