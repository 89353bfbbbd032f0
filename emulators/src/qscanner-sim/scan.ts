/**
 * One qscanner simulator run, apart from the process it runs in: the standalone executable
 * (qscanner.ts) runs it for its own command line, the resident simulator (server.ts) for each
 * client's. Everything a process would take from its surroundings comes in `SimRun`.
 */
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  behaviourFor,
  outputPrefix,
  parseCommandLine,
  SIMULATOR_BANNER,
  SIMULATOR_VERSION,
  type SimCommandLine,
  sarifReport,
  scanResult,
  simulatedImage,
  UsageError,
} from "./simulation.ts";

const USAGE = `${SIMULATOR_BANNER}

usage: qscanner [flags] image <ref> [flags]
       qscanner --version

Accepts qscanner's flags (--pod, --mode, --scan-types, --format, --report-format, --output-dir,
--scan-timeout, --platform, --scan-target-info, ...) and QUALYS_ACCESS_TOKEN from the environment.
With REGISTRY_API_BASE_URL (the local registry) a tag is resolved there, and the words of a
digest's tag are read there; QSCANNER_SIM_VERSION changes the version it reports.
Behaviour is chosen by words in the image tag or last path component:
  slow<ms>      take this long            hang          never finish (ignores SIGTERM)
  exit<code>    exit with this code       notfound      registry: manifest unknown (exit 6)
  unauthorized  registry refuses (6)      qualysauth    Qualys token rejected (exit 1)
  ratelimited   registry 429 (exit 6)     crash         generic error (exit 1)
  noreport      exit 0 without a report   first<n>      fail only the first n runs of this image
  leaktoken     token error that prints the token (exit 1)
`;

export interface SimRun {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Where a relative --output-dir is resolved. */
  cwd: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** Aborted when whoever asked for the run is gone: a pending delay ends there. */
  signal: AbortSignal;
  /**
   * The `hang` behaviour: the process must start a helper in its process group, ignore SIGTERM and
   * never finish (the run's promise never settles).
   */
  hang: () => void;
}

/** Runs the simulator for one command line; resolves to its exit code. */
export async function runSimulator(run: SimRun): Promise<number> {
  let cli: SimCommandLine;
  try {
    cli = parseCommandLine(run.argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    run.err(`ERROR ${error.message}`);
    return 2;
  }
  if (cli.command === "help") {
    run.out(USAGE);
    return 0;
  }
  if (cli.command === "version") {
    run.out(`qscanner version ${SIMULATOR_VERSION} (simulator, not Qualys qscanner)`);
    return 0;
  }
  return scan(cli, run);
}

async function scan(command: SimCommandLine, { env, cwd, out, err, signal, hang }: SimRun): Promise<number> {
  const started = new Date();
  const ref = command.imageRef ?? "";
  const { mode } = command.values;
  out(`INFO  ${SIMULATOR_BANNER}`);

  const token = command.values.accessToken ?? env.QUALYS_ACCESS_TOKEN;
  if (mode !== "inventory-only" && !token) {
    err("ERROR missing access token: set QUALYS_ACCESS_TOKEN or --access-token (simulated)");
    return 1;
  }
  // qscanner reads ACR with registry credentials, or by itself with the managed identity.
  const identity = Boolean(env.AZURE_CLIENT_ID || env.IDENTITY_ENDPOINT || env.MSI_ENDPOINT);
  const credentials = Boolean(env.QSCANNER_REGISTRY_USERNAME && env.QSCANNER_REGISTRY_PASSWORD);
  if (/^[^/]+\.azurecr\.(io|cn|us)(:\d+)?\//.test(ref) && !identity && !credentials) {
    err(
      "ERROR UNAUTHORIZED: authentication required (simulated: no registry credentials or identity for ACR)",
    );
    return 6;
  }
  // Loaded only with a registry: the standalone simulator's start-up stays short.
  const baseUrl = env.REGISTRY_API_BASE_URL;
  const facts = baseUrl ? await (await import("./registryDigest.ts")).registryFacts(ref, baseUrl) : {};
  const image = simulatedImage(ref, facts.digest);
  const behaviour = behaviourFor(facts.tag === undefined ? ref : `${ref.split("@")[0]}:${facts.tag}`);
  out(
    `INFO  Scanning image ${ref} (platform ${command.values.platform ?? "linux/amd64"}, mode ${mode}, scan types ${command.values.scanTypes ?? "os,sca"})`,
  );
  for (const info of command.targetInfo) out(`INFO  Scan target info: ${info}`);

  if (behaviour.hang) {
    hang();
    return new Promise(() => {});
  }

  const timeoutMs = parseDuration(command.values.scanTimeout);
  if (timeoutMs !== undefined && behaviour.delayMs > timeoutMs) {
    await sleep(timeoutMs, undefined, { signal });
    err(`ERROR scan timed out after ${command.values.scanTimeout} (simulated)`);
    return 1;
  }
  if (behaviour.delayMs > 0) await sleep(behaviour.delayMs, undefined, { signal });

  if (behaviour.failure && failsThisRun(ref, behaviour.failTimes, env.TMPDIR || "/tmp")) {
    err(behaviour.failure.line.replace("$QUALYS_ACCESS_TOKEN", token ?? ""));
    return behaviour.failure.exitCode;
  }

  const outputDir = resolve(
    cwd,
    command.values.outputDir ?? join(env.HOME ?? cwd, "qualys", "qscanner", "data"),
  );
  mkdirSync(outputDir, { recursive: true });
  const prefix = join(outputDir, outputPrefix(image));
  const formats = (command.values.format ?? "json").split(",");
  const reportFormats = (command.values.reportFormat ?? "").split(",");
  if (formats.includes("json")) {
    writeFileSync(
      `${prefix}-ScanResult.json`,
      JSON.stringify(scanResult(image, started, new Date()), null, 2),
    );
    out(`INFO  Scan Result JSON created at ${prefix}-ScanResult.json`);
  }
  const counts = image.counts;
  out("INFO  OS detected: simulated 1.0");
  if (mode === "get-report" || mode === "evaluate-policy") {
    if (reportFormats.includes("sarif") && !behaviour.noReport) {
      writeFileSync(`${prefix}-Report.sarif.json`, JSON.stringify(sarifReport(image), null, 2));
    }
    if (reportFormats.includes("json") && !behaviour.noReport) {
      writeFileSync(
        `${prefix}-Report.json`,
        JSON.stringify({ simulator: SIMULATOR_BANNER, image: ref, counts }),
      );
    }
    if (reportFormats.includes("table")) {
      out(`Critical ${counts.critical}  High ${counts.high}  Medium ${counts.medium}  Low ${counts.low}`);
    }
  }
  out(`INFO  All scans completed in ${Date.now() - started.getTime()}ms`);
  return 0;
}

/** Counts runs per image in the temp directory; true while the run number is within `failTimes`. */
function failsThisRun(ref: string, failTimes: number | undefined, tmpDir: string): boolean {
  if (failTimes === undefined) return true;
  const dir = join(tmpDir, "qscanner-sim");
  mkdirSync(dir, { recursive: true });
  const counter = join(dir, createHash("sha256").update(ref).digest("hex"));
  appendFileSync(counter, "x");
  return statSync(counter).size <= failTimes;
}

function parseDuration(text: string | undefined): number | undefined {
  const match = text ? /^(\d+)(ms|s|m|h)$/.exec(text) : null;
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}
