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
import { decideOnFailure, FAILURE_POLICIES, MAX_DESCRIPTION_LENGTH, truncate } from "./failurePolicy.ts";
import type {
  Clock,
  CoreLogger,
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

    try {
      if (!request.force) {
        const cached = await deps.cache.lastSuccessfulScan(request.image);
        if (isCacheHit(request, cached, started, options.cacheMs)) {
          const skipped = completed({ image: request.image, status: "skipped", skipReason: "cached" });
          if (cached.vulnerabilities) skipped.vulnerabilities = cached.vulnerabilities;
          if (!(await publish(skipped))) return abandon("ScanCompleted (skipped) not published");
          deps.metrics.cacheHit();
          record("skipped", undefined, started);
          deps.logger.info(
            { ...context, lastScan: cached.finishedAt.toISOString() },
            "cache hit: not scanned",
          );
          return { action: "complete", outcome: "skipped" };
        }
      }

      deps.logger.info({ ...context, force: request.force }, "scanning");
      const scan = await attemptScan(request, delivery.signal);
      if (scan.kind === "aborted" || delivery.signal.aborted) {
        return abandon("scan aborted (lock lost or shutting down)");
      }

      if (scan.kind === "succeeded") {
        const { report } = scan;
        const succeeded = completed({
          image: withDigest(request.image, report.digest),
          status: "succeeded",
          vulnerabilities: report.vulnerabilities,
          qualys: qualysIds(options.pod, report),
        });
        if (!(await publish(succeeded))) return abandon("ScanCompleted not published");
        deps.metrics.vulnerabilitiesFound(report.vulnerabilities);
        record("succeeded", undefined, started);
        deps.logger.info({ ...context, vulnerabilities: report.vulnerabilities }, "scan succeeded");
        return { action: "complete", outcome: "succeeded" };
      }

      const { failure } = scan;
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
      if (!(await publish(completed({ image: request.image, status: "failed", error })))) {
        return abandon("ScanCompleted (failed) not published");
      }
      record("dead-lettered", failure.failureClass, started);
      deps.logger.warn(
        { ...context, reason: decision.reason, description: decision.description },
        "dead-lettering",
      );
      return { action: "deadLetter", reason: decision.reason, description: decision.description };
    } catch (error) {
      // Storage, token endpoint or broker trouble: nothing is wrong with the request itself.
      return abandon(
        `transient error: ${deps.redact(error instanceof Error ? error.message : String(error))}`,
      );
    }
  };

  /** Registry credentials, then qscanner. A registry that refuses is a classified failure. */
  async function attemptScan(request: ScanRequested, signal: AbortSignal): Promise<ScanAttempt> {
    const started = deps.clock.now().getTime();
    try {
      const credentials = await deps.registryAuth.credentialsFor(request.image, signal);
      return await scanImage(deps.qscanner, {
        image: request.image,
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
