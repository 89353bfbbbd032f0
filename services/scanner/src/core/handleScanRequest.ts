/**
 * What happens to one ScanRequested delivery, from validation to the settlement the receiver must
 * apply. Every request ends as exactly one recorded outcome: a scan, a cache skip, or a dead letter
 * with a reason. ScanCompleted is published before the settlement is returned, so a publish that
 * fails leaves the request unsettled (abandoned) rather than completed without a record.
 */
import {
  type FailureClass,
  type ImageRef,
  type IncomingMessage,
  isContractError,
  parseImageRef,
  parseScanRequestedMessage,
  type ScanCompleted,
  type ScanRequested,
} from "@qcs/shared";
import { isCacheHit } from "./cache.ts";
import {
  decideOnFailure,
  FAILURE_POLICIES,
  type Failure,
  MAX_DESCRIPTION_LENGTH,
  truncate,
} from "./failurePolicy.ts";
import type {
  Clock,
  CoreLogger,
  DigestResolver,
  QscannerProcess,
  RegistryAuthenticator,
  ScanCacheReader,
  ScanCompletedPublisher,
  ScanMetrics,
  ScanOutcome,
} from "./ports.ts";
import { privateRegistryRefusal } from "./privateRegistry.ts";
import type { ScanReport } from "./report.ts";
import { isScanFailure } from "./scanFailure.ts";
import { type ScanAttempt, scanImage } from "./scanImage.ts";
import { targetInfoFor } from "./targetInfo.ts";

export interface ScanRequestHandlerDeps {
  cache: ScanCacheReader;
  /** Resolves the tag of a tag-only request before the cache check. */
  digests: DigestResolver;
  registryAuth: RegistryAuthenticator;
  qscanner: QscannerProcess;
  publisher: ScanCompletedPublisher;
  metrics: ScanMetrics;
  clock: Clock;
  newId: () => string;
  /** Removes secrets from text that leaves the process (messages, descriptions). */
  redact: (text: string) => string;
  logger: CoreLogger;
}

export interface ScanRequestHandlerOptions {
  pod: string;
  cacheMs: number;
  /** A cached scan counts only when made by `scanner.version` (RESCAN_ON_SCANNER_UPGRADE). */
  rescanOnScannerUpgrade: boolean;
  scanTimeoutMs: number;
  /** Unit of the retry delays in the failure policy table. */
  retryBaseDelayMs: number;
  scanner: { name: string; version: string; mode: string };
  scanTypes?: readonly string[] | undefined;
  platform?: string | undefined;
  sendTargetInfo: boolean;
  /** Registries on private addresses that may be scanned (`host` or `host:port`, lower case). */
  allowedPrivateRegistries: readonly string[];
}

export interface ScanDelivery {
  message: IncomingMessage;
  /** Earlier deliveries of this message (0 the first time). */
  deliveryCount: number;
  /** Attempts made before this message was sent (the `attempt` property of a re-sent request). */
  priorAttempts: number;
  /** Aborted when the message lock is lost or shutdown gives up on the scan. */
  signal: AbortSignal;
}

export type Settlement =
  | { action: "complete"; outcome: "succeeded" | "skipped" }
  /** Re-send the request with `attempt` as its prior attempts, delivered after `delayMs`; then complete. */
  | { action: "retry"; attempt: number; delayMs: number; failureClass: FailureClass }
  | { action: "deadLetter"; reason: FailureClass; description: string }
  /** Leave the request to the broker: redelivered at once (or after the lock expires). */
  | { action: "abandon"; reason: string };

export type ScanRequestHandler = (delivery: ScanDelivery) => Promise<Settlement>;

export function createScanRequestHandler(
  deps: ScanRequestHandlerDeps,
  options: ScanRequestHandlerOptions,
): ScanRequestHandler {
  const record = (outcome: ScanOutcome, failureClass: FailureClass | undefined, started: Date) =>
    deps.metrics.scanFinished(outcome, failureClass, deps.clock.now().getTime() - started.getTime());

  return async function handleScanRequest(delivery) {
    const started = deps.clock.now();
    let request: ScanRequested;
    try {
      request = parseScanRequestedMessage(delivery.message);
    } catch (error) {
      if (!isContractError(error)) throw error;
      // Only a request whose sole fault is inside its image reference is an InvalidImageReference.
      const reason: FailureClass = error.issues.every((issue) => issue.field.startsWith("image."))
        ? "InvalidImageReference"
        : "InvalidMessage";
      const description = `${truncate(deps.redact(error.message), MAX_DESCRIPTION_LENGTH / 2)}. ${FAILURE_POLICIES[reason].remedy}`;
      deps.logger.warn({ reason, description }, "dead-lettering an invalid request");
      record("dead-lettered", reason, started);
      return { action: "deadLetter", reason, description: truncate(description, MAX_DESCRIPTION_LENGTH) };
    }

    const attempt = delivery.priorAttempts + delivery.deliveryCount + 1;
    const context = { requestId: request.requestId, image: request.image.ref, attempt };

    // Before anything touches the network: not even the cache lookup for such a reference.
    const refusal = privateRegistryRefusal(request.image.registry, options.allowedPrivateRegistries);
    if (refusal !== undefined) {
      const reason = "InvalidImageReference";
      const description = truncate(`${refusal}. ${FAILURE_POLICIES[reason].remedy}`, MAX_DESCRIPTION_LENGTH);
      deps.logger.warn(
        { ...context, reason, description },
        "dead-lettering a request for a private registry",
      );
      record("dead-lettered", reason, started);
      return { action: "deadLetter", reason, description };
    }
    const abandon = (reason: string): Settlement => {
      deps.logger.warn({ ...context, reason }, "abandoning the request; the broker redelivers it");
      record("abandoned", undefined, started);
      return { action: "abandon", reason };
    };
    const completed = (
      fields: Omit<
        ScanCompleted,
        | "schemaVersion"
        | "scanId"
        | "requestId"
        | "sources"
        | "attempt"
        | "startedAt"
        | "finishedAt"
        | "durationMs"
        | "scanner"
      >,
    ): ScanCompleted => {
      const finished = deps.clock.now();
      return {
        schemaVersion: 1,
        scanId: deps.newId(),
        requestId: request.requestId,
        sources: request.sources,
        attempt,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        durationMs: Math.max(0, finished.getTime() - started.getTime()),
        scanner: options.scanner,
        ...fields,
      };
    };
    const publish = async (scan: ScanCompleted): Promise<boolean> => {
      if (delivery.signal.aborted) return false;
      try {
        await deps.publisher.publish(scan, delivery.signal);
        return true;
      } catch (error) {
        deps.logger.warn({ ...context, err: error }, "publishing ScanCompleted failed");
        return false;
      }
    };

    const settleFailure = async (failure: Failure, image: ImageRef): Promise<Settlement> => {
      const decision = decideOnFailure(failure, attempt, options.retryBaseDelayMs);
      if (decision.kind === "retry") {
        record("retried", failure.failureClass, started);
        deps.logger.warn(
          {
            ...context,
            failureClass: failure.failureClass,
            error: failure.message,
            retryInMs: decision.delayMs,
          },
          "scan failed; retrying later",
        );
        return { action: "retry", attempt, delayMs: decision.delayMs, failureClass: failure.failureClass };
      }
      const error: NonNullable<ScanCompleted["error"]> = {
        class: failure.failureClass,
        message: truncate(failure.message, 4096),
      };
      if (failure.exitCode !== undefined) error.exitCode = failure.exitCode;
      if (!(await publish(completed({ image, status: "failed", error })))) {
        return abandon("ScanCompleted (failed) not published");
      }
      record("dead-lettered", failure.failureClass, started);
      deps.logger.warn(
        { ...context, reason: decision.reason, description: decision.description },
        "dead-lettering",
      );
      return { action: "deadLetter", reason: decision.reason, description: decision.description };
    };

    try {
      // The content a tag names now: what is cached, scanned and recorded (with the tag it came from).
      const resolved = await resolveDigest(request.image, delivery.signal);
      if (resolved.kind === "failed") return await settleFailure(resolved.failure, request.image);
      const { image } = resolved;
      const scanContext = { ...context, digest: image.digest };

      if (!request.force) {
        const cached = await deps.cache.lastSuccessfulScan(image);
        const rule = {
          cacheMs: options.cacheMs,
          scannerVersion: options.rescanOnScannerUpgrade ? options.scanner.version : undefined,
        };
        if (isCacheHit(request, image.digest, cached, started, rule)) {
          const skipped = completed({ image, status: "skipped", skipReason: "cached" });
          if (cached.vulnerabilities) skipped.vulnerabilities = cached.vulnerabilities;
          if (!(await publish(skipped))) return abandon("ScanCompleted (skipped) not published");
          deps.metrics.cacheHit();
          record("skipped", undefined, started);
          deps.logger.info(
            { ...scanContext, lastScan: cached.finishedAt.toISOString() },
            "cache hit: not scanned",
          );
          return { action: "complete", outcome: "skipped" };
        }
      }

      deps.logger.info({ ...scanContext, force: request.force }, "scanning");
      const scan = await attemptScan(request, image, delivery.signal);
      if (scan.kind === "aborted" || delivery.signal.aborted) {
        return abandon("scan aborted (lock lost or shutting down)");
      }

      if (scan.kind === "succeeded") {
        const { report } = scan;
        const succeeded = completed({
          image: withDigest(image, report.digest),
          status: "succeeded",
          vulnerabilities: report.vulnerabilities,
          qualys: qualysIds(options.pod, report),
        });
        if (!(await publish(succeeded))) return abandon("ScanCompleted not published");
        deps.metrics.vulnerabilitiesFound(report.vulnerabilities);
        record("succeeded", undefined, started);
        deps.logger.info({ ...scanContext, vulnerabilities: report.vulnerabilities }, "scan succeeded");
        return { action: "complete", outcome: "succeeded" };
      }
      return await settleFailure(scan.failure, image);
    } catch (error) {
      // Storage, token endpoint or broker trouble: nothing is wrong with the request itself.
      return abandon(
        `transient error: ${deps.redact(error instanceof Error ? error.message : String(error))}`,
      );
    }
  };

  /** A tag-only image with the digest its tag names now; a registry that refuses is a classified failure. */
  async function resolveDigest(
    image: ImageRef,
    signal: AbortSignal,
  ): Promise<{ kind: "resolved"; image: ImageRef } | { kind: "failed"; failure: Failure }> {
    if (image.digest !== undefined) return { kind: "resolved", image };
    try {
      const digest = await deps.digests.digestOf(image, signal);
      if (digest === undefined) {
        deps.logger.warn({ image: image.ref }, "the registry gave no digest for the tag; scanning by tag");
        return { kind: "resolved", image };
      }
      return { kind: "resolved", image: withDigest(image, digest) };
    } catch (error) {
      if (!isScanFailure(error)) throw error;
      const failure: Failure = { failureClass: error.code, message: deps.redact(error.message) };
      if (error.retryAfterMs !== undefined) failure.retryAfterMs = error.retryAfterMs;
      return { kind: "failed", failure };
    }
  }

  /**
   * Registry credentials, then qscanner, pinned to the digest when it is known (the canonical
   * reference of a tag plus digest is `repo@digest`): the content resolved is scanned even if the
   * tag moves meanwhile. A registry that refuses is a classified failure.
   */
  async function attemptScan(
    request: ScanRequested,
    image: ImageRef,
    signal: AbortSignal,
  ): Promise<ScanAttempt> {
    const started = deps.clock.now().getTime();
    try {
      const credentials = await deps.registryAuth.credentialsFor(image, signal);
      return await scanImage(deps.qscanner, {
        image,
        pod: options.pod,
        timeoutMs: options.scanTimeoutMs,
        credentials,
        scanTypes: options.scanTypes,
        platform: options.platform,
        targetInfo: options.sendTargetInfo ? targetInfoFor(request.sources) : undefined,
        signal,
        redact: deps.redact,
      });
    } catch (error) {
      if (!isScanFailure(error)) throw error;
      return {
        kind: "failed",
        failure: { failureClass: error.code, message: deps.redact(error.message) },
        durationMs: deps.clock.now().getTime() - started,
      };
    }
  }
}

/** The image as scanned: digest-pinned when qscanner reported the digest of a tag (the tag is kept). */
function withDigest(image: ImageRef, digest: string | undefined): ImageRef {
  if (image.digest !== undefined || digest === undefined) return image;
  const tag = image.tag === undefined ? "" : `:${image.tag}`;
  return parseImageRef(`${image.registry}/${image.repository}${tag}@${digest}`);
}

function qualysIds(pod: string, report: ScanReport): NonNullable<ScanCompleted["qualys"]> {
  const ids: NonNullable<ScanCompleted["qualys"]> = { pod };
  if (report.imageId) ids.imageId = report.imageId;
  if (report.imageSha) ids.imageSha = report.imageSha;
  return ids;
}
