/**
 * Reads qscanner's output files (given as text) into what a ScanCompleted carries: the image
 * digest, per-severity counts and the Qualys identifiers. Where the files live and how keys are
 * spelled comes from `qscannerCli.ts`.
 */
import type { VulnerabilityCounts } from "@qcs/shared";
import { COUNT_DISTINCT_RULES, OUTPUT_FILES, REPORT_KEYS, SEVERITY_BY_LEVEL } from "./qscannerCli.ts";

export interface OutputFile {
  /** Path relative to the output directory. */
  name: string;
  content: string;
}

export interface ScanReport {
  /** Manifest digest of the scanned image (`sha256:…`), when the report names one. */
  digest?: string;
  /** Qualys' short image ID (12 hex characters). */
  imageId?: string;
  /** Image ID as 64 hex characters without `sha256:` (what the Container Security API calls `sha`). */
  imageSha?: string;
  qscannerVersion?: string;
  vulnerabilities: VulnerabilityCounts;
}

/** The output files did not hold a usable report. */
export class ReportError extends Error {
  override readonly name = "ReportError";
}

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const IMAGE_ID = /^(?:sha256:)?([a-f0-9]{64}|[a-f0-9]{12})$/;

/**
 * Parses the ScanResult and SARIF files of one scan. `repository` selects the right entry among
 * several repo digests (`registry/repository@sha256:…`).
 */
export function parseScanReport(files: readonly OutputFile[], repository: string): ScanReport {
  const scanResultFile = files.find((file) => file.name.endsWith(OUTPUT_FILES.scanResultSuffix));
  const sarifFile = files.find((file) => file.name.endsWith(OUTPUT_FILES.sarifReportSuffix));
  const present = files.length > 0 ? files.map((file) => file.name).join(", ") : "none";
  if (!sarifFile) {
    throw new ReportError(
      `no *${OUTPUT_FILES.sarifReportSuffix} in the output directory (files: ${present})`,
    );
  }
  const sarif = parseJson(sarifFile);
  const scanResult = scanResultFile ? parseJson(scanResultFile) : undefined;

  const runs = get(sarif, ["runs"]);
  if (!Array.isArray(runs)) throw new ReportError(`${sarifFile.name}: no "runs" array`);
  const report: ScanReport = { vulnerabilities: countVulnerabilities(runs, sarifFile.name) };

  const runProperties = runs.map((run) => get(run, REPORT_KEYS.sarif.runProperties));
  const imageIdText =
    firstString(runProperties, REPORT_KEYS.sarif.imageId) ??
    firstString([scanResult], REPORT_KEYS.scanResult.imageId);
  const imageIdMatch = imageIdText ? IMAGE_ID.exec(imageIdText.toLowerCase()) : null;
  if (imageIdMatch?.[1]) {
    report.imageId = imageIdMatch[1].slice(0, 12);
    if (imageIdMatch[1].length === 64) report.imageSha = imageIdMatch[1];
  }

  const digest =
    firstString(runProperties, REPORT_KEYS.sarif.imageDigest) ?? repoDigest(scanResult, repository);
  if (digest && SHA256_DIGEST.test(digest)) report.digest = digest;

  const version = firstString([scanResult], REPORT_KEYS.scanResult.qscannerVersion);
  if (version) report.qscannerVersion = version;
  return report;
}

function countVulnerabilities(runs: unknown[], fileName: string): VulnerabilityCounts {
  const counts: VulnerabilityCounts = { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 };
  const counted = new Set<string>();
  for (const run of runs) {
    const severityByRule = new Map<string, SeverityLevel>();
    const rules = get(run, ["tool", "driver", "rules"]);
    for (const rule of Array.isArray(rules) ? rules : []) {
      const id = get(rule, ["id"]);
      const level = severityLevel(firstValue([rule], REPORT_KEYS.sarif.ruleSeverity));
      if (typeof id === "string" && level !== undefined) severityByRule.set(id, level);
    }
    const results = get(run, ["results"]);
    if (!Array.isArray(results)) throw new ReportError(`${fileName}: a run has no "results" array`);
    for (const result of results) {
      const ruleId = get(result, ["ruleId"]);
      const level =
        (typeof ruleId === "string" ? severityByRule.get(ruleId) : undefined) ??
        severityLevel(firstValue([result], REPORT_KEYS.sarif.resultSeverity));
      if (level === undefined) {
        throw new ReportError(`${fileName}: finding ${String(ruleId)} has no Qualys severity (1-5)`);
      }
      if (COUNT_DISTINCT_RULES && typeof ruleId === "string") {
        if (counted.has(ruleId)) continue;
        counted.add(ruleId);
      }
      counts[SEVERITY_BY_LEVEL[level]] += 1;
      counts.total += 1;
    }
  }
  return counts;
}

type SeverityLevel = keyof typeof SEVERITY_BY_LEVEL;

function severityLevel(value: unknown): SeverityLevel | undefined {
  const level = typeof value === "string" ? Number(value) : value;
  return level === 1 || level === 2 || level === 3 || level === 4 || level === 5 ? level : undefined;
}

function repoDigest(scanResult: unknown, repository: string): string | undefined {
  const digests = firstValue([scanResult], REPORT_KEYS.scanResult.repoDigests);
  if (!Array.isArray(digests)) return undefined;
  const entries = digests.filter(
    (entry): entry is string => typeof entry === "string" && entry.includes("@"),
  );
  const matching = entries.find((entry) => entry.split("@")[0]?.endsWith(`/${repository}`)) ?? entries[0];
  return matching?.split("@")[1];
}

function parseJson(file: OutputFile): unknown {
  try {
    return JSON.parse(file.content);
  } catch {
    throw new ReportError(`${file.name}: not valid JSON`);
  }
}

function get(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function firstValue(objects: readonly unknown[], paths: ReadonlyArray<readonly string[]>): unknown {
  for (const object of objects) {
    for (const path of paths) {
      const value = get(object, path);
      if (value !== undefined && value !== null) return value;
    }
  }
  return undefined;
}

function firstString(
  objects: readonly unknown[],
  paths: ReadonlyArray<readonly string[]>,
): string | undefined {
  for (const object of objects) {
    for (const path of paths) {
      const value = get(object, path);
      if (typeof value === "string" && value.length > 0) return value;
    }
  }
  return undefined;
}
