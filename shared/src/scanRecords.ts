/**
 * The Table Storage layout of scan records, shared by the recorder (writes) and the scanner (reads
 * ScanMetadata for its cache check). Pure: no SDK; entities are plain objects in the shape
 * `@azure/data-tables` sends and returns (`partitionKey`, `rowKey`, `Date` for Edm.DateTime).
 *
 * ScanMetadata, the user's original layout: PartitionKey = registry, RowKey = repository plus
 * `:tag` or `@digest`, one row per reference an image is known by. A result that names both a tag
 * and a digest updates two rows, so the scanner's cache check is one point read whether its
 * request carries a digest (`@digest` row) or only a tag (`:tag` row).
 *
 * ScanHistory: one row per scan in partition `timeline` (all scans, newest first) and one per
 * reference in a partition named after that reference (its history, newest first); RowKey =
 * inverted finish time + scanId. Each question is one range query over one partition.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ENTITY_DEFAULTS } from "./config/fields.ts";
import type { ScanCompleted, ScanStatus } from "./contracts/schemas.ts";
import { SCAN_STATUSES } from "./contracts/schemas.ts";
import { parseImageRef } from "./imageRef.ts";

export const SCAN_TABLES = {
  metadata: ENTITY_DEFAULTS.SCAN_METADATA_TABLE,
  history: ENTITY_DEFAULTS.SCAN_HISTORY_TABLE,
} as const;

export interface TableKey {
  partitionKey: string;
  rowKey: string;
}

// ---------------------------------------------------------------------------------------------
// Key encoding

/**
 * Characters Table keys may not hold (`/ \ # ?`, U+0000-U+001F, U+007F-U+009F), plus `%` (some
 * Table operations fail on keys containing it), `'` (OData literal quote) and `~` (the escape).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are among those to escape.
const KEY_UNSAFE = /[/\\#?%'~\u0000-\u001f\u007f-\u009f]/g;
const ESCAPE = /~([0-9A-F]{2})/g;
/** Real Table Storage allows 1 KiB per key; stay well inside it whatever the character widths. */
export const MAX_KEY_LENGTH = 512;
const HASHED_SUFFIX_LENGTH = 2 + 64;

/**
 * Encodes a string for use as PartitionKey or RowKey: each unsafe character becomes `~` and two
 * upper-case hex digits, so `dotnet/runtime:8.0` is `dotnet~2Fruntime:8.0`. Reversible with
 * {@link decodeKey}. Keys stay readable for `az storage entity` and keep their sort order
 * within a repository (`:tag` and `@digest` rows of one repository are adjacent).
 */
export function encodeKey(value: string): string {
  return value.replace(
    KEY_UNSAFE,
    (char) => `~${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
  );
}

export function decodeKey(key: string): string {
  return key.replace(ESCAPE, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * {@link encodeKey}, bounded to {@link MAX_KEY_LENGTH}: a longer encoding keeps its first
 * characters and ends in `~~` plus the SHA-256 of the whole value (`~~` never occurs in an
 * encoding, so a shortened key cannot equal an ordinary one). Image references long enough for
 * this are legal but unheard of; the entity's columns still hold the full reference.
 */
export function tableKey(value: string): string {
  const encoded = encodeKey(value);
  if (encoded.length <= MAX_KEY_LENGTH) return encoded;
  let head = encoded.slice(0, MAX_KEY_LENGTH - HASHED_SUFFIX_LENGTH);
  // Do not cut an escape sequence in half.
  const lastEscape = head.lastIndexOf("~");
  if (lastEscape > head.length - 3) head = head.slice(0, lastEscape);
  return `${head}~~${createHash("sha256").update(value).digest("hex")}`;
}

// ---------------------------------------------------------------------------------------------
// Image keys

/** The parts of an image reference the keys are built from (an `ImageRef` or a contract's `image`). */
export interface ImageKeySource {
  ref: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

export type ImageKeyKind = "tag" | "digest";

export interface ImageRecordKey extends TableKey {
  kind: ImageKeyKind;
  /** The canonical reference the row stands for: `registry/repository:tag` or `...@digest`. */
  ref: string;
  registry: string;
  repository: string;
}

/**
 * The ScanMetadata rows an image has: its `@digest` row when the digest is known, its `:tag` row
 * when a tag is known (digest first). `image.ref` must be canonical (as the contracts require).
 */
export function imageRecordKeys(image: ImageKeySource): ImageRecordKey[] {
  const parsed = parseImageRef(image.ref);
  const digest = parsed.digest ?? image.digest;
  const tag = parsed.tag ?? image.tag;
  const keys: ImageRecordKey[] = [];
  const key = (kind: ImageKeyKind, suffix: string): ImageRecordKey => ({
    kind,
    ref: `${parsed.registry}/${parsed.repository}${suffix}`,
    registry: parsed.registry,
    repository: parsed.repository,
    partitionKey: tableKey(parsed.registry),
    rowKey: tableKey(`${parsed.repository}${suffix}`),
  });
  if (digest !== undefined) keys.push(key("digest", `@${digest}`));
  if (tag !== undefined) keys.push(key("tag", `:${tag}`));
  return keys;
}

/**
 * The ScanMetadata row the scanner's cache check reads: by digest when the request has one,
 * otherwise by its tag. One point read.
 */
export function scanCacheKey(image: ImageKeySource): ImageRecordKey {
  const [first] = imageRecordKeys(image);
  // A canonical reference always has a tag or a digest.
  if (!first) throw new Error(`image reference without tag or digest: ${image.ref}`);
  return first;
}

// ---------------------------------------------------------------------------------------------
// ScanMetadata: the latest state per reference

/** Resource IDs kept per image ("where it runs"), newest first. */
export const MAX_RESOURCE_IDS = 20;
/** Scan IDs remembered per row so that a repeated result changes nothing. */
export const MAX_RECENT_SCAN_IDS = 32;

/** Findings per severity; absent when the scan found nothing to count (skipped or failed). */
export interface VulnerabilityCountColumns {
  VulnCritical?: number | undefined;
  VulnHigh?: number | undefined;
  VulnMedium?: number | undefined;
  VulnLow?: number | undefined;
  VulnInformational?: number | undefined;
  VulnTotal?: number | undefined;
}

/** The latest state of one image; its count columns are the findings of the latest successful scan. */
export interface ScanMetadataEntity extends TableKey, VulnerabilityCountColumns {
  /** The reference this row stands for (`registry/repository:tag` or `...@digest`). */
  Ref: string;
  Registry: string;
  Repository: string;
  /** Last known tag and digest of the image behind this row. */
  Tag?: string | undefined;
  Digest?: string | undefined;
  /**
   * True when the latest scan's own reference is another row (this `:tag` row mirrors a scan
   * recorded by digest). Listings show each image once by skipping aliases.
   */
  Alias: boolean;
  /** Outcome of the latest scan (a `skipped` result only stands here until a real one arrives). */
  Status: ScanStatus;
  LastScanId: string;
  LastScanAt: Date;
  /** Latest result of any kind, skipped (cached) ones included: when the image was last seen running. */
  LastSeenAt: Date;
  /** Latest successful scan: what the scanner's cache compares with SCAN_CACHE_HOURS. */
  LastSuccessAt?: Date | undefined;
  LastSuccessScanId?: string | undefined;
  /** Scans that ran (succeeded or failed); skipped results are not scans. */
  ScanCount: number;
  /** Failure of the latest scan, when it failed. */
  ErrorClass?: string | undefined;
  ErrorMessage?: string | undefined;
  ScannerVersion?: string | undefined;
  QualysImageId?: string | undefined;
  /** JSON array of resource IDs where the image runs, newest first, at most {@link MAX_RESOURCE_IDS}. */
  ResourceIds: string;
  /** Comma-separated IDs of the latest {@link MAX_RECENT_SCAN_IDS} results applied to this row. */
  RecentScanIds: string;
}

const storedDate = z.coerce.date().refine((date) => !Number.isNaN(date.getTime()), "not a date");
const optionalNumber = z.number().int().nonnegative().optional();
const optionalText = z.string().optional();

/** Validates a ScanMetadata row as read back from the table (dates as `Date` or ISO strings). */
export const ScanMetadataEntitySchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  Ref: z.string(),
  Registry: z.string(),
  Repository: z.string(),
  Tag: optionalText,
  Digest: optionalText,
  Alias: z.boolean().default(false),
  Status: z.enum(SCAN_STATUSES),
  LastScanId: z.string(),
  LastScanAt: storedDate,
  LastSeenAt: storedDate,
  LastSuccessAt: storedDate.optional(),
  LastSuccessScanId: optionalText,
  ScanCount: z.number().int().nonnegative(),
  VulnCritical: optionalNumber,
  VulnHigh: optionalNumber,
  VulnMedium: optionalNumber,
  VulnLow: optionalNumber,
  VulnInformational: optionalNumber,
  VulnTotal: optionalNumber,
  ErrorClass: optionalText,
  ErrorMessage: optionalText,
  ScannerVersion: optionalText,
  QualysImageId: optionalText,
  ResourceIds: z.string().default("[]"),
  RecentScanIds: z.string().default(""),
});

/** A stored ScanMetadata row without the SDK's extra fields (`etag`, `timestamp`); throws on a malformed row. */
export function parseScanMetadataEntity(raw: unknown): ScanMetadataEntity {
  return ScanMetadataEntitySchema.parse(raw);
}

/** True when the row records a successful scan that finished less than `cacheMs` before `now`. */
export function isCachedSuccess(
  entity: Pick<ScanMetadataEntity, "LastSuccessAt"> | undefined,
  now: Date,
  cacheMs: number,
): boolean {
  const at = entity?.LastSuccessAt?.getTime();
  return at !== undefined && now.getTime() - at < cacheMs;
}

export function resourceIdsOf(entity: Pick<ScanMetadataEntity, "ResourceIds">): string[] {
  try {
    const parsed: unknown = JSON.parse(entity.ResourceIds);
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Orders results: later `finishedAt` first, then scanId as a tie-break so every replica agrees.
 * Positive when `a` is newer than `b`.
 */
export function compareResults(
  a: { finishedAt: Date; scanId: string },
  b: { finishedAt: Date; scanId: string },
): number {
  const byTime = a.finishedAt.getTime() - b.finishedAt.getTime();
  if (byTime !== 0) return byTime;
  return a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : 0;
}

/**
 * True when `scan` should replace the latest state stored in `current`. A skipped (cached)
 * result never replaces a real scan; any real scan replaces a state that only a skipped result
 * set; otherwise the newer result wins.
 */
export function isNewerThanStored(
  scan: Pick<ScanCompleted, "status" | "finishedAt" | "scanId">,
  current: Pick<ScanMetadataEntity, "Status" | "LastScanAt" | "LastScanId"> | undefined,
): boolean {
  if (current === undefined) return true;
  if (scan.status === "skipped" && current.Status !== "skipped") return false;
  if (scan.status !== "skipped" && current.Status === "skipped") return true;
  return (
    compareResults(
      { finishedAt: new Date(scan.finishedAt), scanId: scan.scanId },
      { finishedAt: current.LastScanAt, scanId: current.LastScanId },
    ) > 0
  );
}

export type MetadataOutcome =
  /** The row did not exist. */
  | "created"
  /** The result became the latest state. */
  | "updated"
  /** An older result than the stored one: counted and merged, latest state kept. */
  | "outOfOrder"
  /** This result was applied to the row before: nothing to write. */
  | "duplicate";

export interface MetadataChange {
  outcome: MetadataOutcome;
  /** The row to write; absent for a duplicate. */
  entity?: ScanMetadataEntity;
}

/**
 * The ScanMetadata row after applying `scan` to `current` (undefined: the row does not exist).
 * Idempotent (a result already applied is a duplicate) and order-tolerant: the latest state
 * follows {@link isNewerThanStored}, the last success and "last seen" take the maximum, and
 * every result that ran counts once.
 */
export function applyScanToMetadata(
  current: ScanMetadataEntity | undefined,
  scan: ScanCompleted,
  key: ImageRecordKey,
): MetadataChange {
  const recent = current?.RecentScanIds ? current.RecentScanIds.split(",") : [];
  if (recent.includes(scan.scanId)) return { outcome: "duplicate" };

  const finishedAt = new Date(scan.finishedAt);
  const newer = isNewerThanStored(scan, current);
  const seenNewer = current === undefined || finishedAt.getTime() >= current.LastSeenAt.getTime();
  const next: ScanMetadataEntity = current
    ? { ...current }
    : {
        partitionKey: key.partitionKey,
        rowKey: key.rowKey,
        Ref: key.ref,
        Registry: key.registry,
        Repository: key.repository,
        Alias: false,
        Status: scan.status,
        LastScanId: scan.scanId,
        LastScanAt: finishedAt,
        LastSeenAt: finishedAt,
        ScanCount: 0,
        ResourceIds: "[]",
        RecentScanIds: "",
      };

  next.RecentScanIds = [scan.scanId, ...recent].slice(0, MAX_RECENT_SCAN_IDS).join(",");
  if (seenNewer) next.LastSeenAt = finishedAt;
  next.ResourceIds = JSON.stringify(mergeResourceIds(current ? resourceIdsOf(current) : [], scan, seenNewer));
  if (scan.status !== "skipped") next.ScanCount += 1;

  if (newer) {
    next.Status = scan.status;
    next.LastScanId = scan.scanId;
    next.LastScanAt = finishedAt;
    next.Alias = scan.image.ref !== key.ref;
    if (scan.image.digest !== undefined) next.Digest = scan.image.digest;
    if (scan.image.tag !== undefined) next.Tag = scan.image.tag;
    next.ErrorClass = scan.error?.class;
    next.ErrorMessage = scan.error?.message;
    if (scan.status !== "skipped") {
      next.ScannerVersion = scan.scanner.version;
      next.QualysImageId = scan.qualys?.imageId ?? next.QualysImageId;
    }
  }

  const successNewer =
    scan.status === "succeeded" &&
    (next.LastSuccessAt === undefined ||
      compareResults(
        { finishedAt, scanId: scan.scanId },
        { finishedAt: next.LastSuccessAt, scanId: next.LastSuccessScanId ?? "" },
      ) > 0);
  if (successNewer) {
    next.LastSuccessAt = finishedAt;
    next.LastSuccessScanId = scan.scanId;
    const counts = scan.vulnerabilities;
    next.VulnCritical = counts?.critical;
    next.VulnHigh = counts?.high;
    next.VulnMedium = counts?.medium;
    next.VulnLow = counts?.low;
    next.VulnInformational = counts?.informational;
    next.VulnTotal = counts?.total;
  }

  const outcome: MetadataOutcome =
    current === undefined ? "created" : newer || scan.status === "skipped" ? "updated" : "outOfOrder";
  return { outcome, entity: next };
}

function resourceIdsFrom(scan: ScanCompleted): string[] {
  return scan.sources.flatMap((source) => (source.kind === "manual" ? [] : [source.resourceId]));
}

function mergeResourceIds(stored: string[], scan: ScanCompleted, newest: boolean): string[] {
  const incoming = resourceIdsFrom(scan);
  const merged = newest ? [...incoming, ...stored] : [...stored, ...incoming];
  return [...new Set(merged)].slice(0, MAX_RESOURCE_IDS);
}

// ---------------------------------------------------------------------------------------------
// ScanHistory: one row per scan in the timeline, one per reference in its own partition

export const HISTORY_TIMELINE_PARTITION = "timeline";
/** Sources kept per history row (the full list can hold 100; a Table property holds 64 KiB). */
export const MAX_HISTORY_SOURCES = 20;

export interface ScanHistoryEntity extends TableKey, VulnerabilityCountColumns {
  ScanId: string;
  RequestId: string;
  /** The scan's canonical reference (by digest when known). */
  Ref: string;
  Registry: string;
  Repository: string;
  Tag?: string | undefined;
  Digest?: string | undefined;
  Status: ScanStatus;
  SkipReason?: string | undefined;
  Attempt: number;
  StartedAt: Date;
  FinishedAt: Date;
  DurationMs: number;
  ScannerName: string;
  ScannerVersion: string;
  ScannerMode: string;
  QualysPod?: string | undefined;
  QualysImageId?: string | undefined;
  QualysImageSha?: string | undefined;
  ErrorClass?: string | undefined;
  ErrorMessage?: string | undefined;
  ExitCode?: number | undefined;
  /** JSON array of the first {@link MAX_HISTORY_SOURCES} sources of the result. */
  Sources: string;
  SourceCount: number;
}

/** The partition holding the history of one reference (`registry/repository:tag` or `...@digest`). */
export function historyPartitionKey(ref: string): string {
  return tableKey(ref);
}

// Dates up to JavaScript's maximum (8.64e15 ms) in 16 digits; earlier times sort later.
const MAX_TIME_MS = 8_640_000_000_000_000;

/** Inverted time, so an ascending range query returns the newest rows first. */
export function invertedTimeKey(time: Date): string {
  const ms = Math.min(Math.max(time.getTime(), 0), MAX_TIME_MS);
  return String(MAX_TIME_MS - ms).padStart(16, "0");
}

export function historyRowKey(finishedAt: Date, scanId: string): string {
  return `${invertedTimeKey(finishedAt)}_${tableKey(scanId)}`;
}

/**
 * The ScanHistory rows of one result: its timeline row first, then one row per reference
 * ({@link imageRecordKeys}). All keyed by the scan's finish time and ID, so writing them again
 * hits the same rows.
 */
export function scanHistoryEntities(scan: ScanCompleted): ScanHistoryEntity[] {
  const finishedAt = new Date(scan.finishedAt);
  const rowKey = historyRowKey(finishedAt, scan.scanId);
  const parsed = parseImageRef(scan.image.ref);
  const counts = scan.vulnerabilities;
  const body: Omit<ScanHistoryEntity, "partitionKey" | "rowKey"> = {
    ScanId: scan.scanId,
    RequestId: scan.requestId,
    Ref: scan.image.ref,
    Registry: parsed.registry,
    Repository: parsed.repository,
    Tag: parsed.tag ?? scan.image.tag,
    Digest: parsed.digest ?? scan.image.digest,
    Status: scan.status,
    SkipReason: scan.skipReason,
    Attempt: scan.attempt,
    StartedAt: new Date(scan.startedAt),
    FinishedAt: finishedAt,
    DurationMs: scan.durationMs,
    ScannerName: scan.scanner.name,
    ScannerVersion: scan.scanner.version,
    ScannerMode: scan.scanner.mode,
    VulnCritical: counts?.critical,
    VulnHigh: counts?.high,
    VulnMedium: counts?.medium,
    VulnLow: counts?.low,
    VulnInformational: counts?.informational,
    VulnTotal: counts?.total,
    QualysPod: scan.qualys?.pod,
    QualysImageId: scan.qualys?.imageId,
    QualysImageSha: scan.qualys?.imageSha,
    ErrorClass: scan.error?.class,
    ErrorMessage: scan.error?.message,
    ExitCode: scan.error?.exitCode,
    Sources: JSON.stringify(scan.sources.slice(0, MAX_HISTORY_SOURCES)),
    SourceCount: scan.sources.length,
  };
  return [
    { partitionKey: HISTORY_TIMELINE_PARTITION, rowKey, ...body },
    ...imageRecordKeys(scan.image).map((key) => ({
      partitionKey: historyPartitionKey(key.ref),
      rowKey,
      ...body,
    })),
  ];
}
