#!/usr/bin/env node
// The qscanner simulator: accepts qscanner's command line, writes the same output files and exits
// with qscanner's exit codes, deterministically by image reference. It says it is a simulator on
// its first line and in every file it writes. Behaviour words in the image reference: see
// simulation.ts (`behaviourFor`).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
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
Behaviour is chosen by words in the image tag or last path component:
  slow<ms>      take this long            hang          never finish (ignores SIGTERM)
  exit<code>    exit with this code       notfound      registry: manifest unknown (exit 6)
  unauthorized  registry refuses (6)      qualysauth    Qualys token rejected (exit 1)
  ratelimited   registry 429 (exit 6)     crash         generic error (exit 1)
  noreport      exit 0 without a report   first<n>      fail only the first n runs of this image
  leaktoken     token error that prints the token (exit 1)
`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

let cli: SimCommandLine;
try {
  cli = parseCommandLine(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  err(`ERROR ${error.message}`);
  process.exit(2);
}
if (cli.command === "help") {
  out(USAGE);
  process.exit(0);
}
if (cli.command === "version") {
  out(`qscanner version ${SIMULATOR_VERSION} (simulator, not Qualys qscanner)`);
  process.exit(0);
}
process.exit(await scan(cli));

async function scan(command: SimCommandLine): Promise<number> {
  const started = new Date();
  const ref = command.imageRef ?? "";
  const { mode } = command.values;
  out(`INFO  ${SIMULATOR_BANNER}`);

  const token = command.values.accessToken ?? process.env.QUALYS_ACCESS_TOKEN;
  if (mode !== "inventory-only" && !token) {
    err("ERROR missing access token: set QUALYS_ACCESS_TOKEN or --access-token (simulated)");
    return 1;
  }
  if (
    /^[^/]+\.azurecr\.(io|cn|us)(:\d+)?\//.test(ref) &&
    !(process.env.QSCANNER_REGISTRY_USERNAME && process.env.QSCANNER_REGISTRY_PASSWORD)
  ) {
    err("ERROR UNAUTHORIZED: authentication required (simulated: no registry credentials for ACR)");
    return 6;
  }
  const image = simulatedImage(ref);
  const behaviour = behaviourFor(ref);
  out(
    `INFO  Scanning image ${ref} (platform ${command.values.platform ?? "linux/amd64"}, mode ${mode}, scan types ${command.values.scanTypes ?? "os,sca"})`,
  );
  for (const info of command.targetInfo) out(`INFO  Scan target info: ${info}`);

  if (behaviour.hang) {
    // A helper in the same process group, as a real scanner's children would be: a timeout must kill both.
    const helper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1 << 30)"], { stdio: "ignore" });
    out(`INFO  helper process ${helper.pid}`);
    process.on("SIGTERM", () => out("INFO  ignoring SIGTERM (simulated hang)"));
    setInterval(() => {}, 1 << 30);
    await new Promise(() => {});
  }

  const timeoutMs = parseDuration(command.values.scanTimeout);
  if (timeoutMs !== undefined && behaviour.delayMs > timeoutMs) {
    await sleep(timeoutMs);
    err(`ERROR scan timed out after ${command.values.scanTimeout} (simulated)`);
    return 1;
  }
  await sleep(behaviour.delayMs);

  if (behaviour.failure && failsThisRun(ref, behaviour.failTimes)) {
    err(behaviour.failure.line.replace("$QUALYS_ACCESS_TOKEN", token ?? ""));
    return behaviour.failure.exitCode;
  }

  const outputDir = command.values.outputDir ?? join(homedir(), "qualys", "qscanner", "data");
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
function failsThisRun(ref: string, failTimes: number | undefined): boolean {
  if (failTimes === undefined) return true;
  const dir = join(tmpdir(), "qscanner-sim");
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
