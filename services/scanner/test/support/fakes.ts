// In-memory stand-ins for the core's ports, for unit tests of the core.
import type { FailureClass, ImageRef, ScanCompleted, VulnerabilityCounts } from "@qcs/shared";
import type {
  CachedScan,
  DigestResolver,
  QscannerProcess,
  QscannerRunOptions,
  QscannerRunResult,
  RegistryAuthenticator,
  RegistryCredentials,
  ScanCacheReader,
  ScanCompletedPublisher,
  ScanMetrics,
  ScanOutcome,
} from "../../src/core/ports.ts";

export class InMemoryScanCache implements ScanCacheReader {
  readonly byKey = new Map<string, CachedScan>();
  lookups: string[] = [];
  failWith: Error | undefined;
  async lastSuccessfulScan(image: ImageRef): Promise<CachedScan | undefined> {
    if (this.failWith) throw this.failWith;
    const key = image.digest ?? image.ref;
    this.lookups.push(key);
    return this.byKey.get(key);
  }
}

export class FakeRegistryAuth implements RegistryAuthenticator {
  credentials: RegistryCredentials | undefined;
  failWith: Error | undefined;
  async credentialsFor(): Promise<RegistryCredentials | undefined> {
    if (this.failWith) throw this.failWith;
    return this.credentials;
  }
}

/** Plays qscanner: each run gets the next scripted result (the last one repeats). */
export class ScriptedQscanner implements QscannerProcess {
  readonly runs: Array<{ args: string[]; env: Readonly<Record<string, string>>; timeoutMs: number }> = [];
  readonly script: Array<Partial<QscannerRunResult>>;
  constructor(script: Array<Partial<QscannerRunResult>>) {
    this.script = script;
  }
  async run(options: QscannerRunOptions): Promise<QscannerRunResult> {
    this.runs.push({ args: options.args("/tmp/out"), env: options.env, timeoutMs: options.timeoutMs });
    const next = this.script[Math.min(this.runs.length - 1, this.script.length - 1)] ?? {};
    return {
      exitCode: 0,
      timedOut: false,
      aborted: options.signal.aborted,
      output: "",
      files: [],
      durationMs: 5,
      ...next,
    };
  }
}

export class CapturingPublisher implements ScanCompletedPublisher {
  readonly published: ScanCompleted[] = [];
  failWith: Error | undefined;
  async publish(scan: ScanCompleted): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.published.push(scan);
  }
}

export class RecordingMetrics implements ScanMetrics {
  readonly scans: Array<{ outcome: ScanOutcome; failureClass: FailureClass | undefined }> = [];
  cacheHits = 0;
  readonly vulnerabilities: VulnerabilityCounts[] = [];
  scanFinished(outcome: ScanOutcome, failureClass: FailureClass | undefined): void {
    this.scans.push({ outcome, failureClass });
  }
  cacheHit(): void {
    this.cacheHits += 1;
  }
  vulnerabilitiesFound(counts: VulnerabilityCounts): void {
    this.vulnerabilities.push(counts);
  }
}

export const silentLogger = { info: () => {}, warn: () => {} };

/** Resolves tags from a map (ref → digest); an unknown tag resolves to nothing (scanned by tag). */
export class FakeDigestResolver implements DigestResolver {
  readonly digests = new Map<string, string>();
  readonly lookups: string[] = [];
  failWith: Error | undefined;
  async digestOf(image: ImageRef): Promise<string | undefined> {
    this.lookups.push(image.ref);
    if (this.failWith) throw this.failWith;
    return this.digests.get(image.ref);
  }
}
