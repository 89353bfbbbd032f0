/**
 * One line that says what went wrong with an SDK or network call. The Azure SDKs sometimes
 * reject with an `AggregateError` whose own message is empty (its retries' errors are inside),
 * and network errors carry their meaning in `code` (`ECONNREFUSED`).
 */

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

export function errorSummary(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorSummary(error.errors.at(-1));
  const message = error instanceof Error ? (error.message.split("\n")[0] ?? "").trim() : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (message.length > 0) return message;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "unknown error";
}

/** True for failures to reach a host at all (as opposed to an answer saying no). */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isNetworkError);
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  // The AMQP SDKs keep the socket error's `syscall` but may replace its `code` with their own.
  return (
    (typeof code === "string" && NETWORK_CODES.has(code)) ||
    syscall === "connect" ||
    syscall === "getaddrinfo"
  );
}
