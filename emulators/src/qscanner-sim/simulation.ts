/**
 * The qscanner simulator's rules, apart from its process plumbing: how it reads the real command
 * line, what an image reference asks it to do, and the deterministic reports it writes. The
 * scanner under test passes only the real qscanner command line, so behaviour is chosen by words
 * in the image reference (tag or last path component), e.g. `example.com/team/app:exit40-first2-r7`.
 */
import { createHash } from "node:crypto";

/** The version the simulator reports: QSCANNER_SIM_VERSION stands in for an upgraded qscanner. */
export const SIMULATOR_VERSION = process.env.QSCANNER_SIM_VERSION || "0.0.0-simulator";
export const SIMULATOR_BANNER = `qscanner simulator ${SIMULATOR_VERSION} (NOT Qualys qscanner: for local development and tests)`;

const PODS = ["US1", "US2", "US3", "US4", "EU1", "EU2", "EU3", "IN1", "CA1", "AE1", "UK1", "AU1", "KSA1"];
const MODES = ["inventory-only", "scan-only", "get-report", "evaluate-policy"];

/** Flags that take a value (long and short spellings), after reference/qscanner-cli.md §1. */
const VALUE_FLAGS = new Map<string, string>([
  ["--pod", "pod"],
  ["--mode", "mode"],
  ["-m", "mode"],
  ["--scan-types", "scanTypes"],
  ["--format", "format"],
  ["-f", "format"],
  ["--report-format", "reportFormat"],
  ["--output-dir", "outputDir"],
  ["-o", "outputDir"],
  ["--cache-dir", "cacheDir"],
  ["--cache", "cache"],
  ["--log-level", "logLevel"],
  ["-l", "logLevel"],
  ["--scan-timeout", "scanTimeout"],
  ["--proxy", "proxy"],
  ["--platform", "platform"],
  ["--storage-driver", "storageDriver"],
  ["--policy-tags", "policyTags"],
  ["--access-token", "accessToken"],
  ["--client-id", "clientId"],
  ["--client-secret", "clientSecret"],
  ["--scan-target-info", "scanTargetInfo"],
  ["--exclude-dirs", "excludeDirs"],
  ["--exclude-files", "excludeFiles"],
  ["--disable-sca-languages", "disableScaLanguages"],
  ["--max-network-retries", "maxNetworkRetries"],
  ["--network-retry-wait-min", "networkRetryWaitMin"],
  ["--network-retry-wait-max", "networkRetryWaitMax"],
  ["--secret-config-file", "secretConfigFile"],
  ["--secret-config-refresh-duration", "secretConfigRefreshDuration"],
]);
const BOOLEAN_FLAGS = new Set([
  "--skip-verify-tls",
  "--offline-scan",
  "--skip-java-db-update",
  "--file-logging",
  "--force-refresh-secret-config",
  "--version",
  "--help",
  "-h",
]);

export interface SimCommandLine {
  command: "image" | "version" | "help";
  imageRef?: string;
  values: Record<string, string>;
  targetInfo: string[];
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Parses `qscanner [flags] image <ref> [flags]`; flags may sit on either side of the command. */
export function parseCommandLine(argv: readonly string[]): SimCommandLine {
  const values: Record<string, string> = {};
  const targetInfo: string[] = [];
  const positionals: string[] = [];
  let version = false;
  let help = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? "";
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    if (BOOLEAN_FLAGS.has(flag)) {
      const value = equals === -1 ? "true" : arg.slice(equals + 1);
      if (value !== "true" && value !== "false")
        throw new UsageError(`invalid boolean for ${flag}: ${value}`);
      if (flag === "--version" && value === "true") version = true;
      if ((flag === "--help" || flag === "-h") && value === "true") help = true;
      continue;
    }
    const name = VALUE_FLAGS.get(flag);
    if (!name) throw new UsageError(`unknown flag: ${flag}`);
    let value: string | undefined;
    if (equals !== -1) value = arg.slice(equals + 1);
    else {
      index += 1;
      value = argv[index];
    }
    if (value === undefined) throw new UsageError(`flag needs an argument: ${flag}`);
    if (name === "scanTargetInfo") {
      if (!/^[^=]+=.*$/.test(value))
        throw new UsageError(`--scan-target-info expects key=value, got ${value}`);
      targetInfo.push(value);
    } else values[name] = value;
  }
  if (help) return { command: "help", values, targetInfo };
  if (version || positionals[0] === "version") return { command: "version", values, targetInfo };
  if (positionals[0] !== "image") {
    throw new UsageError(
      positionals[0] === undefined
        ? "missing command (the simulator supports: image <ref>, version)"
        : `unsupported command: ${positionals[0]} (the simulator supports: image <ref>, version)`,
    );
  }
  if (positionals.length !== 2 || !positionals[1])
    throw new UsageError("usage: qscanner image <ref> [flags]");
  const mode = values.mode ?? "get-report";
  if (!MODES.includes(mode)) throw new UsageError(`invalid --mode: ${mode}`);
  if (values.pod === undefined) throw new UsageError("required flag --pod not set");
  if (!PODS.includes(values.pod)) throw new UsageError(`invalid --pod: ${values.pod}`);
  return { command: "image", imageRef: positionals[1], values: { ...values, mode }, targetInfo };
}

/** What an image reference asks the simulator to do. */
export interface SimBehaviour {
  delayMs: number;
  hang: boolean;
  /** Fail with this exit code and console line (for the first `failTimes` runs, or always). */
  failure?: { exitCode: number; line: string };
  failTimes?: number;
  /** Exit 0 without a SARIF report. */
  noReport: boolean;
}

const FAILURES: Record<string, { exitCode: number; line: string }> = {
  notfound: { exitCode: 6, line: "ERROR MANIFEST_UNKNOWN: manifest unknown (simulated)" },
  unauthorized: { exitCode: 6, line: "ERROR UNAUTHORIZED: authentication required (simulated)" },
  qualysauth: { exitCode: 1, line: "ERROR invalid access token: token expired (simulated)" },
  ratelimited: { exitCode: 6, line: "ERROR TOOMANYREQUESTS: rate limit exceeded (simulated)" },
  crash: { exitCode: 1, line: "ERROR internal error (simulated)" },
  // Like a careless binary that echoes its credentials: the scanner must redact what it passes on.
  leaktoken: { exitCode: 1, line: "ERROR invalid access token: $QUALYS_ACCESS_TOKEN (simulated leak)" },
};

const EXIT_LINES: Record<number, string> = {
  2: "ERROR invalid parameter (simulated)",
  40: "ERROR failed to get vulnerability report: report not ready (simulated)",
  41: "ERROR failed to get policy evaluation result (simulated)",
};

/**
 * Words (split on `-`, `.`, `_`, `:`) in the tag and last path component:
 * `slow<ms>`, `hang`, `exit<code>`, `notfound`, `unauthorized`, `qualysauth`, `ratelimited`,
 * `crash`, `leaktoken` (a token error that prints the token), `noreport`, and `first<n>` (fail only the first n runs for this image, then succeed).
 */
export function behaviourFor(imageRef: string): SimBehaviour {
  const behaviour: SimBehaviour = { delayMs: 0, hang: false, noReport: false };
  for (const word of referenceWords(imageRef)) {
    const slow = /^slow(\d+)$/.exec(word);
    const exit = /^exit(\d+)$/.exec(word);
    const first = /^first(\d+)$/.exec(word);
    if (slow?.[1]) behaviour.delayMs = Number(slow[1]);
    else if (exit?.[1]) {
      const exitCode = Number(exit[1]);
      behaviour.failure = { exitCode, line: EXIT_LINES[exitCode] ?? `ERROR simulated exit ${exitCode}` };
    } else if (first?.[1]) behaviour.failTimes = Number(first[1]);
    else if (word === "hang") behaviour.hang = true;
    else if (word === "noreport") behaviour.noReport = true;
    else if (FAILURES[word]) behaviour.failure = FAILURES[word];
  }
  return behaviour;
}

/**
 * The words of a reference's tag and last path component (split on `-`, `.`, `_`, `:`), in lower
 * case; the local registry reads the same words (`notfound`, `unauthorized`) so that both agree.
 */
export function referenceWords(imageRef: string): string[] {
  const withoutDigest = imageRef.split("@")[0] ?? imageRef;
  return withoutDigest
    .slice(withoutDigest.lastIndexOf("/") + 1)
    .toLowerCase()
    .split(/[-._:]/);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export interface SimImage {
  ref: string;
  /** Manifest digest: the one in the reference, else derived from it. */
  digest: string;
  /** Config digest hex (what Qualys calls the image SHA). */
  imageSha: string;
  counts: { critical: number; high: number; medium: number; low: number; informational: number };
}

/**
 * Everything about an image the simulator reports, derived from the reference alone (and from the
 * digest a registry resolved its tag to, when one did).
 */
export function simulatedImage(ref: string, resolvedDigest?: string): SimImage {
  const digestInRef = /@(sha256:[a-f0-9]{64})$/.exec(ref)?.[1];
  const seed = Buffer.from(sha256(`counts:${ref}`), "hex");
  return {
    ref,
    digest: digestInRef ?? resolvedDigest ?? `sha256:${sha256(`manifest:${ref}`)}`,
    imageSha: sha256(`config:${ref}`),
    counts: {
      critical: (seed[0] ?? 0) % 3,
      high: (seed[1] ?? 0) % 5,
      medium: (seed[2] ?? 0) % 8,
      low: (seed[3] ?? 0) % 6,
      informational: 1 + ((seed[4] ?? 0) % 3),
    },
  };
}

const SEVERITY_LEVELS = { critical: 5, high: 4, medium: 3, low: 2, informational: 1 } as const;

/** `<prefix>-Report.sarif.json`: one rule and one result per QID; the first QID is found in two packages. */
export function sarifReport(image: SimImage): unknown {
  const rules: unknown[] = [];
  const results: unknown[] = [];
  let qid = 6_000_000 + Number.parseInt(image.imageSha.slice(0, 4), 16);
  for (const [severity, level] of Object.entries(SEVERITY_LEVELS)) {
    for (let n = 0; n < image.counts[severity as keyof SimImage["counts"]]; n += 1) {
      qid += 1;
      const id = String(qid);
      rules.push({
        id,
        shortDescription: { text: `Simulated ${severity} vulnerability ${id}` },
        properties: { severity: level, "cve-ids": [`CVE-2000-${id.slice(-5)}`], qds: level * 19 },
      });
      const packages = results.length === 0 ? ["libsim1", "libsim1-dev"] : [`pkg${id}`];
      for (const name of packages) {
        results.push({
          ruleId: id,
          level: level >= 4 ? "error" : level === 3 ? "warning" : "note",
          message: { text: `${name} 1.0.0 is vulnerable (simulated)` },
          properties: {
            QID: qid,
            vulnerableSoftware: [{ name, installedVersion: "1.0.0", fixedVersion: "1.0.1", layerSHA: "" }],
          },
        });
      }
    }
  }
  return {
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "qscanner-simulator", version: SIMULATOR_VERSION, rules } },
        results,
        properties: {
          imageID: `sha256:${image.imageSha}`,
          imageDigest: image.digest,
          os: "simulated 1.0",
          repoTags: [image.ref],
          simulator: SIMULATOR_BANNER,
        },
      },
    ],
  };
}

/** `<prefix>-ScanResult.json` in the `Metadata.Target` layout. */
export function scanResult(image: SimImage, startedAt: Date, finishedAt: Date): unknown {
  const name = image.ref.split("@")[0] ?? image.ref;
  const repository = name.includes(":", name.lastIndexOf("/")) ? name.slice(0, name.lastIndexOf(":")) : name;
  return {
    SchemaVersion: 2,
    QScannerVersion: SIMULATOR_VERSION,
    Simulator: SIMULATOR_BANNER,
    ScansPerformed: [
      { ScanType: "os", ScanDuration: `${finishedAt.getTime() - startedAt.getTime()}ms`, Status: "SUCCESS" },
    ],
    Metadata: {
      ScanStartTime: startedAt.toISOString(),
      ScanEndTime: finishedAt.toISOString(),
      Target: {
        OS: "simulated 1.0",
        Architecture: "amd64",
        ImageID: `sha256:${image.imageSha}`,
        RepoTags: image.ref.includes("@") ? [] : [image.ref],
        RepoDigests: [`${repository}@${image.digest}`],
      },
    },
    OSResults: [],
  };
}

/** File name prefix the simulator uses (the real prefix is unconfirmed; the scanner must only rely on suffixes). */
export function outputPrefix(image: SimImage): string {
  return `sha256_${image.imageSha.slice(0, 12)}`;
}
