import { setTimeout as sleep } from "node:timers/promises";

export interface WaitOptions<T> {
  /** When the value read is the one waited for. Default: truthy. */
  until?: (value: T) => boolean;
  /** Bounds a hang; no test asserts how long anything takes. Default: 20 s. */
  timeoutMs?: number;
  /** Default: 25 ms. */
  intervalMs?: number;
}

/**
 * Reads `read` until its value satisfies `until` (truthy by default) and returns that value; fails
 * after `timeoutMs` naming `what` and the last value read. The one poller of the repository's tests.
 */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  what: string,
  options: WaitOptions<T> | number = {},
): Promise<NonNullable<T>> {
  const {
    until = Boolean,
    timeoutMs = 20_000,
    intervalMs = 25,
  } = typeof options === "number" ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${describe(value)}`);
    }
    await sleep(intervalMs);
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 500) ?? String(value);
  } catch {
    return String(value);
  }
}
