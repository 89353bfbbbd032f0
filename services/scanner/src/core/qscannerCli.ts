/**
 * Everything this service believes about the qscanner command line, in one place so it can be
 * corrected in one place: flags, environment variable names, output file names, JSON key paths of
 * the reports, exit-code meanings and the console texts that tell failures apart.
 *
 * Evidence grades follow /work/shared/reference/qscanner-cli.md: OFFICIAL (Qualys docs), WRAPPERS
 * (several third-party wrappers agree), UNCONFIRMED (one source, or none). Anything graded
 * UNCONFIRMED must be checked against a real qscanner run before relying on it in production.
 */
import type { FailureClass } from "@qcs/shared";

export const QSCANNER_NAME = "qscanner";

/** `--mode get-report`: upload, then fetch the vulnerability report (WRAPPERS). */
export const QSCANNER_MODE = "get-report";

/** Default `--scan-types` (WRAPPERS; the accepted values depend on the qscanner version: UNCONFIRMED). */
export const DEFAULT_SCAN_TYPES = ["os", "sca", "secret"] as const;

/** Default `--platform` (OFFICIAL): ACI and ACA run linux/amd64. */
export const DEFAULT_PLATFORM = "linux/amd64";

/** Environment variables read by qscanner. */
export const QSCANNER_ENV = {
  /** Stands in for `--access-token` (WRAPPERS: every wrapper sets only this). Never put the token in argv. */
  accessToken: "QUALYS_ACCESS_TOKEN",
  /** Registry basic-auth pair for remote scans (UNCONFIRMED: one author's Lambda wrapper). */
  registryUsername: "QSCANNER_REGISTRY_USERNAME",
  registryPassword: "QSCANNER_REGISTRY_PASSWORD",
} as const;

/** Output files in `--output-dir`: `<prefix>-ScanResult.json`, `<prefix>-Report.sarif.json` (prefix UNCONFIRMED). */
export const OUTPUT_FILES = {
  scanResultSuffix: "-ScanResult.json",
  sarifReportSuffix: "-Report.sarif.json",
} as const;

/** True for the output files the service reads. */
export function isReportFile(name: string): boolean {
  return name.endsWith(OUTPUT_FILES.scanResultSuffix) || name.endsWith(OUTPUT_FILES.sarifReportSuffix);
}

/**
 * JSON key paths. ScanResult.json: two wrappers disagree on the layout (UNCONFIRMED), so both are
 * tried. SARIF: after the Jenkins wrapper's parser, written against Qualys' format (WRAPPERS).
 */
export const REPORT_KEYS = {
  scanResult: {
    qscannerVersion: [["QScannerVersion"]],
    imageId: [
      ["Metadata", "Target", "ImageID"],
      ["Metadata", "TargetMetadata", "ImageMetadata", "ImageID"],
    ],
    repoDigests: [
      ["Metadata", "Target", "RepoDigests"],
      ["Metadata", "TargetMetadata", "ImageMetadata", "RepoDigests"],
    ],
  },
  sarif: {
    runProperties: ["properties"],
    imageId: [["imageID"], ["imageId"]],
    imageDigest: [["imageDigest"]],
    /** Qualys severity 1–5 on each rule (`runs[].tool.driver.rules[]`). */
    ruleSeverity: [["properties", "severity"]],
    /** A result's own severity, when its rule has none (UNCONFIRMED). */
    resultSeverity: [["properties", "severity"]],
  },
} as const;

/** Qualys severity levels (WRAPPERS, medium confidence). */
export const SEVERITY_BY_LEVEL = {
  5: "critical",
  4: "high",
  3: "medium",
  2: "low",
  1: "informational",
} as const;

/**
 * Findings are counted once per rule (QID) per image, as the Container Security API counts
 * `severityNCount`; a QID found in several packages counts once. (Our choice; UNCONFIRMED that the
 * SARIF report has one result per package.)
 */
export const COUNT_DISTINCT_RULES = true;

/** `qscanner --version` prints a line containing `qscanner version <x>` (WRAPPERS: one pipeline script). */
export function parseVersionOutput(output: string): string | undefined {
  return /qscanner version\s+v?([0-9A-Za-z][\w.+-]*)/i.exec(output)?.[1];
}

export interface QscannerArgsOptions {
  pod: string;
  /** Canonical image reference, already validated. */
  imageRef: string;
  outputDir: string;
  scanTimeoutSeconds: number;
  /** Default {@link DEFAULT_SCAN_TYPES}. */
  scanTypes?: readonly string[];
  /** Default {@link DEFAULT_PLATFORM}. */
  platform?: string;
  /** Sent only when the deployment turned the unconfirmed flag on. */
  targetInfo?: ReadonlyArray<readonly [string, string]>;
}

/**
 * The argument array for one scan. Flags before `image <ref>`, as the TypeScript wrappers do.
 * `--scan-target-info key=value` is UNCONFIRMED (seen in one author's scripts) and only sent when asked.
 */
export function buildScanArgs(options: QscannerArgsOptions): string[] {
  const args = [
    "--pod",
    options.pod,
    "--mode",
    QSCANNER_MODE,
    "--scan-types",
    (options.scanTypes ?? DEFAULT_SCAN_TYPES).join(","),
    "--format",
    "json",
    "--report-format",
    "sarif",
    "--output-dir",
    options.outputDir,
    "--scan-timeout",
    `${options.scanTimeoutSeconds}s`,
    "--log-level",
    "info",
  ];
  for (const [key, value] of options.targetInfo ?? []) args.push("--scan-target-info", `${key}=${value}`);
  args.push("image", options.imageRef, "--platform", options.platform ?? DEFAULT_PLATFORM);
  return args;
}

/** Exit codes (WRAPPERS: the same table in four wrappers; not in the official docs). */
export const EXIT_CODE_MEANINGS: Readonly<Record<number, string>> = {
  0: "success",
  1: "generic error",
  2: "invalid parameter",
  3: "logger initialisation failed",
  5: "artifact failed: filesystem",
  6: "artifact failed: image",
  7: "artifact failed: image archive",
  8: "artifact failed: image storage driver",
  9: "artifact failed: container",
  10: "artifact failed: other",
  11: "scan failed: metadata",
  12: "scan failed: OS",
  13: "scan failed: SCA",
  14: "scan failed: secret",
  15: "scan failed: OS not found",
  16: "scan failed: malware",
  17: "scan failed: OS not supported",
  18: "scan failed: file insight",
  19: "scan failed: compliance",
  20: "scan failed: manifest",
  21: "scan failed: Windows registry",
  30: "JSON result handler failed",
  31: "changelist creation failed",
  32: "changelist compression failed",
  33: "changelist upload failed",
  34: "SPDX handler failed",
  35: "CycloneDX handler failed",
  36: "SBOM compression failed",
  37: "SBOM upload failed",
  38: "secret result creation failed",
  39: "secret result upload failed",
  40: "failed to get the vulnerability report (data uploaded; the report was not ready in time)",
  41: "failed to get the policy evaluation result",
  42: "policy evaluation DENY",
  43: "policy evaluation AUDIT",
};

export const EXIT_SUCCESS = 0;
export const EXIT_INVALID_PARAMETER = 2;
export const EXIT_REPORT_NOT_READY = 40;

/**
 * Console texts that identify a failure whatever the exit code (no dedicated exit codes for
 * authentication are confirmed). Ordered: the first match wins. All UNCONFIRMED: these are the
 * phrases registries (distribution spec error codes) and HTTP clients commonly print.
 */
export const OUTPUT_PATTERNS: ReadonlyArray<readonly [FailureClass, RegExp]> = [
  [
    "QualysAuthFailed",
    /(invalid|expired|missing)\s+(qualys\s+)?(access\s+)?token|token\s+(is\s+)?(invalid|expired)|qualys[^\n]*\b(401|403|unauthori[sz]ed|forbidden)\b|gateway[^\n]*\b(401|403)\b/i,
  ],
  ["RateLimited", /\b429\b|too many requests|toomanyrequests|rate[ -]?limit/i],
  [
    "RegistryAuthFailed",
    /\bUNAUTHORIZED\b|authentication required|\bDENIED\b|no basic auth credentials|insufficient_scope|\b403 forbidden\b/i,
  ],
  [
    "ImageNotFound",
    /MANIFEST_UNKNOWN|NAME_UNKNOWN|manifest unknown|manifest for \S+ not found|repository (name )?not (known|found)|image not found|no such image/i,
  ],
  ["ScanTimeout", /scan timeout|scan timed out|context deadline exceeded/i],
];

export interface ExitClassification {
  failureClass: FailureClass;
  /** What qscanner's exit code means, for humans. */
  meaning: string;
}

/** Maps a non-zero exit status and the console output to a failure class. */
export function classifyExit(exitCode: number, output: string): ExitClassification {
  const meaning = EXIT_CODE_MEANINGS[exitCode] ?? "undocumented exit code";
  if (exitCode === EXIT_REPORT_NOT_READY) return { failureClass: "ReportNotReady", meaning };
  for (const [failureClass, pattern] of OUTPUT_PATTERNS) {
    if (pattern.test(output)) return { failureClass, meaning };
  }
  return { failureClass: "ScannerFailed", meaning };
}

/** The line of console output that best explains a failure: the last ERROR/FATAL line, else the last line. */
export function errorLine(output: string): string | undefined {
  const lines = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const errors = lines.filter((line) => /^(ERROR|FATAL|FTL|ERR)\b|\blevel=(error|fatal)\b/i.test(line));
  return errors.at(-1) ?? lines.at(-1);
}
