/**
 * The Table Storage layout of scan records that several services must agree on: table names, key
 * encoding, the ScanMetadata row and how its findings are read. The recorder writes these tables and
 * owns the rules of what goes into them (services/recorder/src/core/); the scanner reads ScanMetadata
 * for its cache check. Pure: no SDK; entities are plain objects in the shape `@azure/data-tables`
 * sends and returns (`partitionKey`, `rowKey`, `Date` for Edm.DateTime).
 *
 * ScanMetadata, the user's original layout: PartitionKey = registry, RowKey = repository plus
 * `:tag` or `@digest`, one row per reference an image is known by. A result that names both a tag
 * and a digest updates two rows, so the scanner's cache check is one point read whether its
 * request carries a digest (`@digest` row) or only a tag (`:tag` row).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { ENTITY_DEFAULTS } from "./config/fields.ts";
import type { VulnerabilityCounts } from "./contracts/schemas.ts";
import { SCAN_STATUSES, type ScanStatus } from "./contracts/schemas.ts";
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
  /** qscanner version of the latest successful scan: the scanner's cache compares it with its own. */
  LastSuccessScannerVersion?: string | undefined;
  /** Scans that ran (succeeded or failed); skipped results are not scans. */
  ScanCount: number;
  /** Failure of the latest scan, when it failed. */
  ErrorClass?: string | undefined;
  ErrorMessage?: string | undefined;
  ScannerVersion?: string | undefined;
  QualysImageId?: string | undefined;
  /** JSON array of resource IDs where the image runs, newest first (bounded by the recorder). */
  ResourceIds: string;
  /** Comma-separated IDs of the latest results applied to this row (bounded by the recorder). */
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
  LastSuccessScannerVersion: optionalText,
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

/**
 * The findings a row records (its latest successful scan), or undefined when it records none. All
 * six columns are written together; a row missing any of them is not trusted for counts.
 */
export function vulnerabilityCountsOf(row: VulnerabilityCountColumns): VulnerabilityCounts | undefined {
  const { VulnCritical, VulnHigh, VulnMedium, VulnLow, VulnInformational, VulnTotal } = row;
  if (
    VulnCritical === undefined ||
    VulnHigh === undefined ||
    VulnMedium === undefined ||
    VulnLow === undefined ||
    VulnInformational === undefined ||
    VulnTotal === undefined
  ) {
    return undefined;
  }
  return {
    critical: VulnCritical,
    high: VulnHigh,
    medium: VulnMedium,
    low: VulnLow,
    informational: VulnInformational,
    total: VulnTotal,
  };
}
