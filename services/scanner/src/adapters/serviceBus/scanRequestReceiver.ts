/**
 * Peek-lock consumption of `scan-requests` through the SDK's streaming receiver: at most
 * `concurrency` messages locked at once (the SDK adds one credit per finished handler, and no
 * receive/drain cycles churn the link while idle), the lock of each renewed by hand for the whole
 * scan (a failed renewal aborts the scan, which is then abandoned rather than completed twice),
 * and the core's settlement applied to the message. A delayed retry is a scheduled copy of the
 * request carrying the attempt count, sent before the original is completed.
 */
import { createHash } from "node:crypto";
import type {
  ProcessErrorArgs,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import { APP_PROPERTY, type Logger } from "@qcs/shared";
import type { ScanRequestHandler, Settlement } from "../../core/handleScanRequest.ts";

export interface ReceiverMetrics {
  lockRenewed(): void;
  lockRenewalFailed(): void;
  inFlightChanged(delta: number): void;
}

export interface ScanRequestReceiverOptions {
  /** A peekLock receiver on the requests queue, with the SDK's own lock renewal off (`maxAutoLockRenewalDurationInMs: 0`). */
  receiver: ServiceBusReceiver;
  /** A sender to the same queue, for delayed retries. */
  retrySender: ServiceBusSender;
  handle: ScanRequestHandler;
  /** Scans at once (SCANNER_CONCURRENCY). */
  concurrency: number;
  /** Locks are renewed for at most this long per message (the scan timeout plus a margin). */
  maxLockRenewalMs: number;
  metrics: ReceiverMetrics;
  logger: Logger;
}

/** Longest messageId Service Bus accepts. */
const MAX_MESSAGE_ID_LENGTH = 128;

export class ScanRequestReceiver {
  readonly #options: ScanRequestReceiverOptions;
  readonly #inFlight = new Map<Promise<void>, AbortController>();
  #running = false;
  #subscription: { close(): Promise<void> } | undefined;

  constructor(options: ScanRequestReceiverOptions) {
    this.#options = options;
  }

  /** Messages being handled, or handed back while stopping. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Readiness: the broker answers on the requests queue (a peek through its management link). */
  async reachable(): Promise<boolean> {
    try {
      await this.#options.receiver.peekMessages(1);
      return true;
    } catch {
      return false;
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#subscription = this.#options.receiver.subscribe(
      {
        processMessage: (message) => this.#onMessage(message),
        processError: async (args) => this.#onError(args),
      },
      { maxConcurrentCalls: this.#options.concurrency, autoCompleteMessages: false },
    );
  }

  /** Stops taking messages; scans in flight go on. */
  async stopReceiving(): Promise<void> {
    this.#running = false;
    await this.#subscription?.close();
  }

  /**
   * Waits for the scans in flight. When `deadline` fires, aborts them: each is abandoned so the
   * broker redelivers it at once.
   */
  async drain(deadline: AbortSignal): Promise<void> {
    const abortAll = () => {
      for (const controller of this.#inFlight.values()) controller.abort(new Error("shutting down"));
    };
    if (deadline.aborted) abortAll();
    deadline.addEventListener("abort", abortAll, { once: true });
    try {
      await this.idle();
    } finally {
      deadline.removeEventListener("abort", abortAll);
    }
  }

  /** Resolves when no message is being handled or settled. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.keys()]);
  }

  /** The SDK calls this for each message and gives a new credit once it resolves. */
  async #onMessage(message: ServiceBusReceivedMessage): Promise<void> {
    if (!this.#running) {
      // Delivered while stopping: hand it straight back, tracked so close() waits for the abandon.
      const handBack = this.#settle(message, { action: "abandon", reason: "shutting down" }).finally(() =>
        this.#inFlight.delete(handBack),
      );
      this.#inFlight.set(handBack, new AbortController());
      await handBack;
      return;
    }
    await this.#track(message);
  }

  #onError(args: ProcessErrorArgs): void {
    this.#options.logger.warn(
      { err: args.error, errorSource: args.errorSource, entityPath: args.entityPath },
      "Service Bus receiver error; the SDK reconnects",
    );
  }

  #track(message: ServiceBusReceivedMessage): Promise<void> {
    const lock = new AbortController();
    const work = this.#process(message, lock).finally(() => {
      this.#inFlight.delete(work);
      this.#options.metrics.inFlightChanged(-1);
    });
    this.#inFlight.set(work, lock);
    this.#options.metrics.inFlightChanged(1);
    return work;
  }

  async #process(message: ServiceBusReceivedMessage, lock: AbortController): Promise<void> {
    const stopRenewing = this.#renewLock(message, lock);
    let settlement: Settlement;
    try {
      settlement = await this.#options.handle({
        message: { body: message.body, subject: message.subject, contentType: message.contentType },
        deliveryCount: message.deliveryCount ?? 0,
        priorAttempts: priorAttempts(message),
        signal: lock.signal,
      });
    } catch (error) {
      this.#options.logger.error(
        { err: error, messageId: message.messageId },
        "handling a scan request failed",
      );
      settlement = { action: "abandon", reason: "handler error" };
    } finally {
      stopRenewing();
    }
    await this.#settle(message, settlement);
  }

  /** Renews the lock at half its remaining time until stopped or the renewal budget is spent. */
  #renewLock(message: ServiceBusReceivedMessage, lock: AbortController): () => void {
    const { receiver, metrics, logger, maxLockRenewalMs } = this.#options;
    const renewUntil = Date.now() + maxLockRenewalMs;
    let lockedUntil = message.lockedUntilUtc?.getTime() ?? Date.now();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = () => {
      const delay = Math.max(50, (lockedUntil - Date.now()) / 2);
      if (stopped || Date.now() + delay > renewUntil) return;
      timer = setTimeout(async () => {
        try {
          const until = await receiver.renewMessageLock(message);
          lockedUntil = until.getTime();
          metrics.lockRenewed();
          schedule();
        } catch (error) {
          if (stopped) return;
          metrics.lockRenewalFailed();
          logger.warn({ err: error, messageId: message.messageId }, "lock renewal failed; aborting the scan");
          lock.abort(new Error("message lock lost"));
        }
      }, delay);
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  async #settle(message: ServiceBusReceivedMessage, settlement: Settlement): Promise<void> {
    const { receiver, retrySender, logger } = this.#options;
    try {
      switch (settlement.action) {
        case "complete":
          await receiver.completeMessage(message);
          return;
        case "retry": {
          const [copy] = await retrySender.scheduleMessages(
            retryCopy(message, settlement.attempt),
            new Date(Date.now() + settlement.delayMs),
          );
          try {
            await receiver.completeMessage(message);
          } catch (error) {
            // The original comes back (its lock is gone) and is handled again: withdraw the copy,
            // or the same request would be scanned twice.
            if (copy !== undefined) {
              await retrySender.cancelScheduledMessages(copy).catch((cancelError: unknown) => {
                logger.error(
                  { err: cancelError, messageId: message.messageId },
                  "withdrawing the scheduled retry failed; the request may be scanned twice",
                );
              });
            }
            throw error;
          }
          return;
        }
        case "deadLetter":
          await receiver.deadLetterMessage(message, {
            deadLetterReason: settlement.reason,
            deadLetterErrorDescription: settlement.description,
          });
          return;
        case "abandon":
          await receiver.abandonMessage(message);
          return;
      }
    } catch (error) {
      // Most often the lock was lost: the broker redelivers the message after it expires.
      logger.warn({ err: error, messageId: message.messageId, action: settlement.action }, "settling failed");
    }
  }
}

function priorAttempts(message: ServiceBusReceivedMessage): number {
  const value = Number(message.applicationProperties?.[APP_PROPERTY.attempt] ?? 0);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/**
 * The request again, for a later attempt. Its messageId is derived from the original's and the
 * attempt, so duplicate detection absorbs a second copy if this delivery is processed twice.
 */
function retryCopy(message: ServiceBusReceivedMessage, attempt: number) {
  const original = String(message.messageId ?? "").replace(/-r\d+$/, "");
  let messageId = `${original}-r${attempt}`;
  if (messageId.length > MAX_MESSAGE_ID_LENGTH) {
    messageId = `${createHash("sha256").update(original).digest("hex")}-r${attempt}`;
  }
  return {
    body: message.body,
    messageId,
    subject: message.subject,
    contentType: message.contentType,
    applicationProperties: { ...message.applicationProperties, [APP_PROPERTY.attempt]: attempt },
  };
}
