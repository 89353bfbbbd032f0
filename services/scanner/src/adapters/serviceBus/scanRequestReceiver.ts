/**
 * Peek-lock consumption of the two request queues, deployment (`scan-requests`) and sweep
 * (`scan-requests-sweep`), into one set of `concurrency` slots. Each free slot is filled by a pull
 * (`receiveMessages`) chosen by the core's slot scheduler, so a deployment request never waits
 * behind sweep work that is still on the broker: a streaming `subscribe` per queue would hold
 * credit (and locks) on both queues at once and could not ask "deployment first" per slot. Never
 * more messages are locked than slots are free. Every message, whichever queue it came from, goes
 * through the same path: its lock renewed by hand for the whole scan (a failed renewal aborts the
 * scan, which is then abandoned rather than completed twice), the core's settlement applied
 * through its own queue's receiver, and a delayed retry scheduled as a copy on its own queue.
 * Each message is handled in a consumer span continuing the trace its `Diagnostic-Id` carries, so
 * the ScanCompleted published meanwhile carries the scanner's span on to the recorder.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceBusReceivedMessage, ServiceBusReceiver, ServiceBusSender } from "@azure/service-bus";
import { context, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { APP_PROPERTY, type Logger } from "@qcs/shared";
import { startMessageSpan } from "@qcs/shared/runtime";
import type { ScanRequestHandler, Settlement } from "../../core/handleScanRequest.ts";
import { afterPull, initialSlotState, type Lane, planPulls } from "../../core/slotScheduler.ts";

export interface ReceiverMetrics {
  lockRenewed(): void;
  lockRenewalFailed(): void;
  inFlightChanged(delta: number): void;
}

/** One request queue: a peekLock receiver (SDK lock renewal off) and a sender to the same queue for delayed retries. */
export interface RequestQueueLinks {
  receiver: ServiceBusReceiver;
  retrySender: ServiceBusSender;
}

export interface ScanRequestReceiverOptions {
  /** Receivers with `maxAutoLockRenewalDurationInMs: 0`: locks are renewed here, per scan. */
  queues: Record<Lane, RequestQueueLinks>;
  handle: ScanRequestHandler;
  /** Scans at once (SCANNER_CONCURRENCY), shared by both queues. */
  concurrency: number;
  /** Deployment scans started in a row while sweep work waits (SCANNER_PRIORITY_STREAK). */
  maxPriorityStreak: number;
  /** Locks are renewed for at most this long per message (the scan timeout plus a margin). */
  maxLockRenewalMs: number;
  metrics: ReceiverMetrics;
  logger: Logger;
  /** Default: the global tracer (a no-op until a tracer provider is registered). */
  tracer?: Tracer;
}

/**
 * How long a pull waits on a queue that may be empty while slots are free: short, as it only
 * decides whether to fall through to the other queue (a message that arrives meanwhile ends the
 * wait; the SDK then waits out the rest for more). When both queues were empty, the scanner waits
 * on the deployment queue for one message, up to a second, so an idle scanner makes about one
 * receive per second instead of a tight loop, and a deployment request arriving ends that wait.
 */
const PROBE_WAIT_MS = 100;
const IDLE_WAIT_MS = 1_000;
/** Pause after a failed receive (the SDK reconnects the link on the next one). */
const RECEIVE_ERROR_BACKOFF_MS = 1_000;
/**
 * How long past the message's lock a settlement may stay unconfirmed before it is given up. The SDK
 * can lose a settlement (it closes a receiver link whose drain is not confirmed within 200 ms, and a
 * message received on that link then never settles); after the lock the broker redelivers anyway, so
 * waiting longer only holds a slot, and a shutdown, forever.
 */
const SETTLE_PAST_LOCK_MS = 5_000;

/** Longest messageId Service Bus accepts. */
const MAX_MESSAGE_ID_LENGTH = 128;

export class ScanRequestReceiver {
  readonly #options: ScanRequestReceiverOptions;
  readonly #inFlight = new Map<Promise<void>, AbortController>();
  #running = false;
  #loop: Promise<void> | undefined;
  /** Resolved by stopReceiving, so a loop waiting for a free slot stops at once. */
  #stopped = Promise.withResolvers<void>();
  /**
   * Aborted by stopReceiving: ends the pull under way, so a stop never waits on a receive (nor on
   * a link attach that hangs, which the SDK would wait on for a minute).
   */
  #receiving = new AbortController();

  constructor(options: ScanRequestReceiverOptions) {
    this.#options = options;
  }

  /** Messages being handled, or handed back while stopping. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Readiness: the broker answers on both request queues (a peek through their management links). */
  async reachable(): Promise<boolean> {
    try {
      const { deployment, sweep } = this.#options.queues;
      await Promise.all([deployment.receiver.peekMessages(1), sweep.receiver.peekMessages(1)]);
      return true;
    } catch {
      return false;
    }
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = Promise.withResolvers<void>();
    this.#receiving = new AbortController();
    this.#loop = this.#fillSlots();
  }

  /** Stops taking messages at once (the pull under way is cut short); scans in flight go on. */
  async stopReceiving(): Promise<void> {
    this.#running = false;
    this.#stopped.resolve();
    this.#receiving.abort();
    await this.#loop;
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

  /** The one receive loop: waits for a free slot, then pulls in the order the slot scheduler gives. */
  async #fillSlots(): Promise<void> {
    const { concurrency, maxPriorityStreak } = this.#options;
    let state = initialSlotState;
    let idle = false;
    while (this.#running) {
      const free = concurrency - this.#inFlight.size;
      if (free <= 0) {
        await Promise.race([this.#stopped.promise, ...this.#inFlight.keys()]);
        continue;
      }
      let received = 0;
      for (const pull of planPulls(state, free, maxPriorityStreak)) {
        const waitForDeployment = idle && pull.lane === "deployment";
        const messages = waitForDeployment
          ? await this.#pull(pull.lane, 1, IDLE_WAIT_MS)
          : await this.#pull(pull.lane, pull.max, PROBE_WAIT_MS);
        state = afterPull(state, pull.lane, messages.length);
        for (const message of messages) this.#dispatch(pull.lane, message);
        received = messages.length;
        if (received > 0 || !this.#running) break;
      }
      idle = received === 0;
    }
  }

  async #pull(lane: Lane, max: number, maxWaitTimeInMs: number): Promise<ServiceBusReceivedMessage[]> {
    const abortSignal = this.#receiving.signal;
    try {
      return await this.#options.queues[lane].receiver.receiveMessages(max, { maxWaitTimeInMs, abortSignal });
    } catch (error) {
      if (abortSignal.aborted) return [];
      this.#options.logger.warn({ err: error, lane }, "receiving scan requests failed; retrying");
      await sleep(RECEIVE_ERROR_BACKOFF_MS, undefined, { signal: abortSignal }).catch(() => {});
      return [];
    }
  }

  #dispatch(lane: Lane, message: ServiceBusReceivedMessage): void {
    if (this.#running) {
      this.#track(lane, message);
      return;
    }
    // Received while stopping: hand it straight back, tracked so close() waits for the abandon.
    const handBack = this.#settle(lane, message, { action: "abandon", reason: "shutting down" }).finally(() =>
      this.#inFlight.delete(handBack),
    );
    this.#inFlight.set(handBack, new AbortController());
  }

  #track(lane: Lane, message: ServiceBusReceivedMessage): void {
    const lock = new AbortController();
    const work = this.#process(lane, message, lock).finally(() => {
      this.#inFlight.delete(work);
      this.#options.metrics.inFlightChanged(-1);
    });
    this.#inFlight.set(work, lock);
    this.#options.metrics.inFlightChanged(1);
  }

  async #process(lane: Lane, message: ServiceBusReceivedMessage, lock: AbortController): Promise<void> {
    const { span, context: spanContext } = startMessageSpan(
      this.#options.tracer ?? trace.getTracer("scanner"),
      "scanner process ScanRequested",
      message.applicationProperties,
    );
    span.setAttributes({ "scanner.lane": lane, "messaging.message.id": String(message.messageId ?? "") });
    const stopRenewing = this.#renewLock(this.#options.queues[lane].receiver, message, lock);
    let settlement: Settlement;
    try {
      settlement = await context.with(spanContext, () =>
        this.#options.handle({
          message: { body: message.body, subject: message.subject, contentType: message.contentType },
          deliveryCount: message.deliveryCount ?? 0,
          priorAttempts: priorAttempts(message),
          signal: lock.signal,
        }),
      );
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      this.#options.logger.error(
        { err: error, messageId: message.messageId },
        "handling a scan request failed",
      );
      settlement = { action: "abandon", reason: "handler error" };
    } finally {
      stopRenewing();
    }
    span.setAttribute("scanner.settlement", settlement.action);
    try {
      await this.#settle(lane, message, settlement);
    } finally {
      span.end();
    }
  }

  /** Renews the lock at half its remaining time until stopped or the renewal budget is spent. */
  #renewLock(
    receiver: ServiceBusReceiver,
    message: ServiceBusReceivedMessage,
    lock: AbortController,
  ): () => void {
    const { metrics, logger, maxLockRenewalMs } = this.#options;
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

  /** Settles through the queue the message came from; a retry copy goes back to that queue. */
  async #settle(lane: Lane, message: ServiceBusReceivedMessage, settlement: Settlement): Promise<void> {
    const { receiver, retrySender } = this.#options.queues[lane];
    const { logger } = this.#options;
    try {
      switch (settlement.action) {
        case "complete":
          await withinLock(message, receiver.completeMessage(message));
          return;
        case "retry": {
          const [copy] = await retrySender.scheduleMessages(
            retryCopy(message, settlement.attempt),
            new Date(Date.now() + settlement.delayMs),
          );
          try {
            await withinLock(message, receiver.completeMessage(message));
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
          await withinLock(
            message,
            receiver.deadLetterMessage(message, {
              deadLetterReason: settlement.reason,
              deadLetterErrorDescription: settlement.description,
            }),
          );
          return;
        case "abandon":
          await withinLock(message, receiver.abandonMessage(message));
          return;
      }
    } catch (error) {
      // Most often the lock was lost: the broker redelivers the message after it expires.
      logger.warn({ err: error, messageId: message.messageId, action: settlement.action }, "settling failed");
    }
  }
}

/** The settlement, or a rejection once the message's lock (as last renewed) is long past. */
async function withinLock(message: ServiceBusReceivedMessage, settling: Promise<void>): Promise<void> {
  const lockedUntil = message.lockedUntilUtc?.getTime() ?? Date.now();
  const giveUp = new AbortController();
  const unconfirmed = sleep(Math.max(0, lockedUntil - Date.now()) + SETTLE_PAST_LOCK_MS, undefined, {
    signal: giveUp.signal,
    ref: false,
  }).then(() => {
    throw new Error(
      "settlement not confirmed by the broker before the message's lock expired; it redelivers",
    );
  });
  try {
    await Promise.race([settling, unconfirmed]);
  } finally {
    giveUp.abort();
    unconfirmed.catch(() => {});
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
