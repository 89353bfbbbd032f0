/**
 * Whether a webhook's answer is retried, and after how long: 429, 5xx, timeouts and network
 * errors are retried with exponential backoff (or the receiver's Retry-After, capped) until
 * `maxAttempts`; any other failure is final at once, since sending the same body again cannot help.
 */
export type DeliveryResult =
  | { kind: "delivered"; status: number }
  | { kind: "rejected"; status: number; retryAfter?: string | undefined; excerpt: string }
  | { kind: "unreachable"; error: string };

export interface DeliveryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_DELIVERY_POLICY: Omit<DeliveryPolicy, "maxAttempts"> = {
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
};

export type DeliveryDecision = { kind: "done" } | { kind: "retry"; delayMs: number } | { kind: "give-up" };

export function decideDelivery(
  result: DeliveryResult,
  attempt: number,
  policy: DeliveryPolicy,
  now: Date,
): DeliveryDecision {
  if (result.kind === "delivered") return { kind: "done" };
  const retryable = result.kind === "unreachable" || result.status === 429 || result.status >= 500;
  if (!retryable || attempt >= policy.maxAttempts) return { kind: "give-up" };
  const backoff = Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);
  const asked = result.kind === "rejected" ? retryAfterMs(result.retryAfter, now) : undefined;
  return { kind: "retry", delayMs: Math.min(asked ?? backoff, policy.maxDelayMs) };
}

/** `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/** How a final failure reads in the dead letter. */
export function describeFailure(result: Exclude<DeliveryResult, { kind: "delivered" }>): string {
  return result.kind === "unreachable"
    ? `unreachable: ${result.error}`
    : `HTTP ${result.status}${result.excerpt ? `: ${result.excerpt}` : ""}`;
}
