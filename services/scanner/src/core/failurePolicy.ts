/**
 * One policy per failure class (the table in services/scanner/README.md): retry later with a
 * delayed re-send of the request, or dead-letter at once with the class as the dead-letter reason
 * and a description that says what a human has to fix. Retries are counted across re-sends, so
 * a class that keeps failing ends in the dead-letter queue too.
 */
import { FAILURE_REMEDIES, type FailureClass } from "@qcs/shared";

export type FailurePolicy =
  | { kind: "deadLetter"; remedy: string }
  | {
      kind: "retry";
      /** Attempts in all, the first included; the last failure is dead-lettered. */
      maxAttempts: number;
      /** Delay before attempt n+1, in units of the configured base delay (SCAN_RETRY_DELAY_SECONDS). */
      delayUnits: (failedAttempt: number) => number;
      remedy: string;
    };

const exponential = (cap: number) => (failedAttempt: number) => Math.min(cap, 2 ** (failedAttempt - 1));

export const FAILURE_POLICIES: Readonly<Record<FailureClass, FailurePolicy>> = {
  InvalidMessage: {
    kind: "deadLetter",
    remedy: FAILURE_REMEDIES.InvalidMessage,
  },
  InvalidImageReference: {
    kind: "deadLetter",
    remedy: FAILURE_REMEDIES.InvalidImageReference,
  },
  ImageNotFound: {
    kind: "deadLetter",
    remedy: FAILURE_REMEDIES.ImageNotFound,
  },
  RegistryAuthFailed: {
    kind: "deadLetter",
    remedy: FAILURE_REMEDIES.RegistryAuthFailed,
  },
  QualysAuthFailed: {
    kind: "deadLetter",
    remedy: FAILURE_REMEDIES.QualysAuthFailed,
  },
  RateLimited: {
    kind: "retry",
    maxAttempts: 6,
    delayUnits: exponential(16),
    remedy: FAILURE_REMEDIES.RateLimited,
  },
  ReportNotReady: {
    kind: "retry",
    maxAttempts: 5,
    delayUnits: (failedAttempt) => failedAttempt,
    remedy: FAILURE_REMEDIES.ReportNotReady,
  },
  ScanTimeout: {
    kind: "retry",
    maxAttempts: 2,
    delayUnits: () => 5,
    remedy: FAILURE_REMEDIES.ScanTimeout,
  },
  ScannerFailed: {
    kind: "retry",
    maxAttempts: 3,
    delayUnits: exponential(4),
    remedy: FAILURE_REMEDIES.ScannerFailed,
  },
};

export interface Failure {
  failureClass: FailureClass;
  /** What went wrong, already free of secrets. */
  message: string;
  exitCode?: number;
  /** The registry's `Retry-After`: a retry waits at least this long. */
  retryAfterMs?: number;
}

export type FailureDecision =
  | { kind: "retry"; delayMs: number }
  | { kind: "deadLetter"; reason: FailureClass; description: string };

/** Service Bus allows 4 KiB of dead-letter description; keep well inside. */
export const MAX_DESCRIPTION_LENGTH = 1024;

export function decideOnFailure(
  failure: Failure,
  attempt: number,
  retryBaseDelayMs: number,
): FailureDecision {
  const policy = FAILURE_POLICIES[failure.failureClass];
  if (policy.kind === "retry" && attempt < policy.maxAttempts) {
    const delayMs = policy.delayUnits(attempt) * retryBaseDelayMs;
    return { kind: "retry", delayMs: Math.max(delayMs, failure.retryAfterMs ?? 0) };
  }
  const gaveUp = policy.kind === "retry" ? ` (gave up after ${attempt} attempts)` : "";
  return {
    kind: "deadLetter",
    reason: failure.failureClass,
    description: truncate(`${failure.message}${gaveUp}. ${policy.remedy}`, MAX_DESCRIPTION_LENGTH),
  };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
