import type { FailureClass } from "@qcs/shared";

/**
 * A classified scan failure, raised by adapters that know the cause (the registry refused the
 * credentials). Any other error is an infrastructure problem: the request is abandoned and retried.
 */
export class ScanFailure extends Error {
  override readonly name = "ScanFailure";
  readonly code: FailureClass;
  /** The registry's `Retry-After` of a `RateLimited` failure. */
  readonly retryAfterMs: number | undefined;
  constructor(code: FailureClass, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}

export function isScanFailure(error: unknown): error is ScanFailure {
  return error instanceof Error && error.name === "ScanFailure";
}
