/**
 * What the core needs from the outside world, named for the core's needs. Adapters in
 * `src/adapters/` implement them; tests use in-memory fakes.
 */
import type { FailureClass, ImageRef, ScanCompleted, VulnerabilityCounts } from "@qcs/shared";
import type { OutputFile } from "./report.ts";

/** The last successful scan of an image, as the recorder stored it. */
export interface CachedScan {
  finishedAt: Date;
  digest?: string;
  /** The qscanner version of that scan. */
  scannerVersion?: string;
  vulnerabilities?: VulnerabilityCounts;
}

export interface ScanCacheReader {
  /** Looks the image up by digest when it has one, else by reference. Read-only. */
  lastSuccessfulScan(image: ImageRef): Promise<CachedScan | undefined>;
}

export interface DigestResolver {
  /**
   * The digest `image`'s tag points at now, or `undefined` when the registry does not say. Throws a
   * `ScanFailure` when the registry refuses (`ImageNotFound`, `RegistryAuthFailed`, `RateLimited`);
   * any other error is transient.
   */
  digestOf(image: ImageRef, signal: AbortSignal): Promise<string | undefined>;
}

/** Registry credentials handed to qscanner (basic auth). */
export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryAuthenticator {
  /**
   * Credentials for reading `image`, or `undefined` to pull anonymously. Throws a
   * `ScanFailure("RegistryAuthFailed")` when the registry refuses; any other error is transient.
   */
  credentialsFor(image: ImageRef, signal: AbortSignal): Promise<RegistryCredentials | undefined>;
}

export interface QscannerRunOptions {
  /** Builds the argument array once the runner has created the fresh output directory. */
  args: (outputDir: string) => string[];
  /** Per-scan variables for the child (registry credentials); the runner adds its own base environment. */
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Kills the process group when aborted (lock lost, shutdown deadline). */
  signal: AbortSignal;
  /** Which files of the output directory to read back (by path relative to it). */
  collect: (name: string) => boolean;
}

export interface QscannerRunResult {
  /** Exit status, or null when a signal ended the process. */
  exitCode: number | null;
  /** Set when the process could not be started (ENOENT, EACCES). */
  spawnError?: string;
  timedOut: boolean;
  aborted: boolean;
  /** The last part of stdout and stderr (bounded). */
  output: string;
  files: OutputFile[];
  durationMs: number;
}

export interface QscannerProcess {
  run(options: QscannerRunOptions): Promise<QscannerRunResult>;
}

export interface ScanCompletedPublisher {
  /** Resolves once the broker accepted the message; `signal` cancels a send not yet made. */
  publish(scan: ScanCompleted, signal?: AbortSignal): Promise<void>;
}

export type ScanOutcome = "succeeded" | "skipped" | "retried" | "dead-lettered" | "abandoned";

export interface ScanMetrics {
  scanFinished(outcome: ScanOutcome, failureClass: FailureClass | undefined, durationMs: number): void;
  cacheHit(): void;
  vulnerabilitiesFound(counts: VulnerabilityCounts): void;
}

export interface Clock {
  now(): Date;
}

/** The log calls the core makes (a pino logger fits). */
export interface CoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}
