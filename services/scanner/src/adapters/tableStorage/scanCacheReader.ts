/**
 * The scanner's read-only view of the recorder's ScanMetadata table: one point read per request,
 * by digest when the request has one, else by tag (`scanCacheKey`), with the scan's qscanner version.
 */
import type { TableClient } from "@azure/data-tables";
import { type ImageRef, parseScanMetadataEntity, scanCacheKey, vulnerabilityCountsOf } from "@qcs/shared";
import type { CachedScan, ScanCacheReader } from "../../core/ports.ts";

export class TableScanCacheReader implements ScanCacheReader {
  readonly #table: TableClient;

  constructor(table: TableClient) {
    this.#table = table;
  }

  async lastSuccessfulScan(image: ImageRef): Promise<CachedScan | undefined> {
    const key = scanCacheKey(image);
    let raw: unknown;
    try {
      raw = await this.#table.getEntity(key.partitionKey, key.rowKey);
    } catch (error) {
      // No such row, or the recorder has not created the table yet: never scanned.
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
    const parsed = safeParse(raw);
    if (!parsed?.LastSuccessAt) return undefined;
    const cached: CachedScan = { finishedAt: parsed.LastSuccessAt };
    if (parsed.Digest) cached.digest = parsed.Digest;
    // Rows written before LastSuccessScannerVersion: ScannerVersion is the success's when it is the latest.
    const version =
      parsed.LastSuccessScannerVersion ?? (parsed.Status === "succeeded" ? parsed.ScannerVersion : undefined);
    if (version) cached.scannerVersion = version;
    const vulnerabilities = vulnerabilityCountsOf(parsed);
    if (vulnerabilities) cached.vulnerabilities = vulnerabilities;
    return cached;
  }

  /** Readiness: the table service answers (a 404 for a row that cannot exist is an answer). */
  async reachable(): Promise<boolean> {
    try {
      await this.#table.getEntity("readiness-probe", "readiness-probe");
      return true;
    } catch (error) {
      return statusOf(error) === 404;
    }
  }
}

/** A row this version cannot read counts as "never scanned": one extra scan beats a stuck cache. */
function safeParse(raw: unknown) {
  try {
    return parseScanMetadataEntity(raw);
  } catch {
    return undefined;
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}
