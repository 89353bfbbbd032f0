/** Waits for a service's `/readyz` to answer 200, for as long as its process runs. */
import { setTimeout as delay } from "node:timers/promises";
import { redactSecrets } from "@qcs/shared";

export interface WaitReadyOptions {
  /** Resolves when the process exited: waiting stops with an error. */
  exited: Promise<unknown>;
  signal?: AbortSignal;
  /** Default: 250 ms. */
  intervalMs?: number;
  /** Default: 90 s. */
  timeoutMs?: number;
}

export class NotReadyError extends Error {
  override readonly name = "NotReadyError";
}

/** Polls `<baseUrl>/readyz`; resolves once it answers 200. */
export async function waitUntilReady(
  name: string,
  baseUrl: string,
  options: WaitReadyOptions,
): Promise<void> {
  let exited = false;
  void options.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  let last = "no answer yet";
  while (!exited) {
    options.signal?.throwIfAborted();
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(3000) });
      if (response.status === 200) return;
      last = `${response.status} ${redactSecrets(await response.text()).slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new NotReadyError(
        `${name} did not become ready within ${options.timeoutMs ?? 90_000} ms (last /readyz: ${last})`,
      );
    }
    await delay(options.intervalMs ?? 250, undefined, { signal: options.signal }).catch(() => {});
  }
  throw new NotReadyError(`${name} exited before it was ready (last /readyz: ${last})`);
}
