/**
 * One qscanner run: validate the reference, build the command line, run it through the process
 * port, and turn exit status, console output and report files into a report or a classified
 * failure.
 */
import { type ImageRef, tryParseImageRef } from "@qcs/shared";
import type { Failure } from "./failurePolicy.ts";
import type { QscannerProcess, RegistryCredentials } from "./ports.ts";
import {
  buildScanArgs,
  classifyExit,
  EXIT_SUCCESS,
  errorLine,
  isReportFile,
  QSCANNER_ENV,
} from "./qscannerCli.ts";
import { parseScanReport, ReportError, type ScanReport } from "./report.ts";

export interface ScanImageOptions {
  image: ImageRef;
  pod: string;
  timeoutMs: number;
  credentials?: RegistryCredentials | undefined;
  scanTypes?: readonly string[] | undefined;
  platform?: string | undefined;
  targetInfo?: ReadonlyArray<readonly [string, string]> | undefined;
  signal: AbortSignal;
  /** Removes secrets from text that ends up in messages. */
  redact: (text: string) => string;
}

export type ScanAttempt =
  | { kind: "succeeded"; report: ScanReport; durationMs: number }
  | { kind: "failed"; failure: Failure; durationMs: number }
  | { kind: "aborted"; durationMs: number };

export async function scanImage(runner: QscannerProcess, options: ScanImageOptions): Promise<ScanAttempt> {
  // Never hand a subprocess anything but a canonical, valid reference.
  const parsed = tryParseImageRef(options.image.ref);
  if (!parsed.ok || parsed.value.ref !== options.image.ref) {
    const reason = parsed.ok ? "not in canonical form" : parsed.reason;
    return failed("InvalidImageReference", `image reference rejected before scanning: ${reason}`, 0);
  }

  const env: Record<string, string> = {};
  if (options.credentials) {
    env[QSCANNER_ENV.registryUsername] = options.credentials.username;
    env[QSCANNER_ENV.registryPassword] = options.credentials.password;
  }
  const timeoutSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  const result = await runner.run({
    args: (outputDir) =>
      buildScanArgs({
        pod: options.pod,
        imageRef: parsed.value.ref,
        outputDir,
        scanTimeoutSeconds: timeoutSeconds,
        scanTypes: options.scanTypes,
        platform: options.platform,
        targetInfo: options.targetInfo,
      }),
    env,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    collect: isReportFile,
  });
  const { durationMs } = result;

  if (result.aborted) return { kind: "aborted", durationMs };
  if (result.spawnError !== undefined) {
    return failed("ScannerFailed", `could not start qscanner: ${result.spawnError}`, durationMs);
  }
  if (result.timedOut) {
    return failed(
      "ScanTimeout",
      `qscanner did not finish within ${timeoutSeconds} s; its process group was killed`,
      durationMs,
    );
  }
  // Redacted before `said` shortens it: a secret cut at the edge would no longer be recognised.
  const line = errorLine(result.output);
  const lastLine = line === undefined ? undefined : options.redact(line);
  if (result.exitCode !== EXIT_SUCCESS) {
    if (result.exitCode === null) {
      return failed("ScannerFailed", `qscanner was killed by a signal${said(lastLine)}`, durationMs);
    }
    const { failureClass, meaning } = classifyExit(result.exitCode, result.output);
    return failed(
      failureClass,
      `qscanner exited with ${result.exitCode} (${meaning})${said(lastLine)}`,
      durationMs,
      result.exitCode,
    );
  }
  try {
    return { kind: "succeeded", report: parseScanReport(result.files, options.image.repository), durationMs };
  } catch (error) {
    if (!(error instanceof ReportError)) throw error;
    return failed(
      "ScannerFailed",
      `qscanner exited with 0 but its report is unusable: ${error.message}`,
      durationMs,
    );
  }

  function failed(
    failureClass: Failure["failureClass"],
    message: string,
    duration: number,
    exitCode?: number,
  ): ScanAttempt {
    const failure: Failure = { failureClass, message: options.redact(message) };
    if (exitCode !== undefined) failure.exitCode = exitCode;
    return { kind: "failed", failure, durationMs: duration };
  }
}

function said(line: string | undefined): string {
  return line ? `: ${line.length > 300 ? `${line.slice(0, 299)}…` : line}` : "";
}
