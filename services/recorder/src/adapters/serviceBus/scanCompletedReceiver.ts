/**
 * Peek-lock receiver on the `recorder` subscription of topic `scan-completed`. Hands each
 * message to the core's handler (at most `concurrency` at once, the lock renewed by the SDK while
 * it runs) and carries out its decision: complete, dead-letter or abandon. Stopping is in the
 * lifecycle's three steps: stop intake, drain (abandon what cannot finish by the deadline), close.
 */

import {
  isServiceBusError,
  type ProcessErrorArgs,
  type ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";
import { context, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { type Logger, startMessageSpan } from "@qcs/shared/runtime";
import type { ScanCompletedHandler, Settlement } from "../../core/handleScanCompleted.ts";
import { InFlightWork } from "./inFlightWork.ts";

/** How long closing waits for the settlements of the deadline (abandonments) before it closes the link. */
const SETTLE_BEFORE_CLOSE_MS = 5_000;

export interface ScanCompletedReceiverOptions {
  client: ServiceBusClient;
  topic: string;
  subscription: string;
  /** Messages handled at once. */
  concurrency: number;
  handler: ScanCompletedHandler;
  logger: Logger;
  tracer: Tracer;
  /** How long the SDK keeps renewing a message's lock while the handler runs. */
  maxLockRenewalMs: number;
  /** Readiness stays false this long after an error unless a message gets through. Default: 30 s. */
  unhealthyAfterMs?: number;
}

export class ScanCompletedReceiver {
  readonly #options: ScanCompletedReceiverOptions;
  readonly #logger: Logger;
  readonly #inFlight = new InFlightWork();
  #receiver: ServiceBusReceiver | undefined;
  #subscription: { close(): Promise<void> } | undefined;
  #lastError: number | undefined;
  #lastProgress = 0;

  constructor(options: ScanCompletedReceiverOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "receiver", subscription: options.subscription });
  }

  start(): void {
    const { client, topic, subscription, concurrency, maxLockRenewalMs } = this.#options;
    const receiver = client.createReceiver(topic, subscription, {
      receiveMode: "peekLock",
      maxAutoLockRenewalDurationInMs: maxLockRenewalMs,
    });
    this.#receiver = receiver;
    this.#subscription = receiver.subscribe(
      {
        processMessage: (message) => this.#inFlight.track(this.#process(receiver, message)),
        processError: async (args) => this.#onError(args),
      },
      { autoCompleteMessages: false, maxConcurrentCalls: concurrency },
    );
    this.#logger.info({ topic, concurrency }, "receiving ScanCompleted");
  }

  /**
   * True while the receiver runs and is not stuck on errors: no error yet, a message settled since
   * the last one, or the last one long enough ago (the SDK reports again while it cannot recover).
   */
  ready(): boolean {
    if (!this.#receiver || this.#receiver.isClosed || this.#inFlight.stopping.aborted) return false;
    const lastError = this.#lastError;
    if (lastError === undefined || this.#lastProgress > lastError) return true;
    return Date.now() - lastError > (this.#options.unhealthyAfterMs ?? 30_000);
  }

  /** Lifecycle step 1: no new messages. Messages in flight can still be settled. */
  async stopIntake(): Promise<void> {
    await this.#subscription?.close();
    this.#logger.info({ inFlight: this.#inFlight.size }, "stopped receiving");
  }

  /** Lifecycle step 2: wait for handlers; at the deadline they abandon what they hold. */
  async drain(deadline: AbortSignal): Promise<void> {
    await this.#inFlight.drain(deadline);
  }

  /** Lifecycle step 3: lets the abandonments of the deadline reach the broker, then closes the link. */
  async close(): Promise<void> {
    await this.#inFlight.stop(SETTLE_BEFORE_CLOSE_MS);
    await this.#receiver?.close();
  }

  async #process(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<void> {
    const { span, context: spanContext } = startMessageSpan(
      this.#options.tracer,
      "recorder process ScanCompleted",
      message.applicationProperties,
    );
    const log = this.#logger.child({ messageId: message.messageId, deliveryCount: message.deliveryCount });
    try {
      const settlement = await context.with(spanContext, () =>
        untilDeadline(this.#options.handler(message, this.#inFlight.stopping), this.#inFlight.stopping),
      );
      await this.#settle(receiver, message, settlement, log);
      this.#lastProgress = Date.now();
      span.setAttribute("recorder.settlement", settlement.action);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      log.error({ err: error }, "handling failed: abandoning for redelivery");
      await receiver.abandonMessage(message).catch((abandonError: unknown) => {
        log.warn({ err: abandonError }, "abandon failed: the lock will expire and the broker redelivers");
      });
    } finally {
      span.end();
    }
  }

  async #settle(
    receiver: ServiceBusReceiver,
    message: ServiceBusReceivedMessage,
    settlement: Settlement,
    log: Logger,
  ): Promise<void> {
    switch (settlement.action) {
      case "complete":
        await receiver.completeMessage(message);
        log.debug({ outcome: settlement.outcome }, "recorded");
        return;
      case "deadLetter":
        await receiver.deadLetterMessage(message, {
          deadLetterReason: settlement.reason,
          deadLetterErrorDescription: settlement.description,
        });
        log.warn({ reason: settlement.reason, description: settlement.description }, "dead-lettered");
        return;
      case "abandon":
        await receiver.abandonMessage(message);
        return;
    }
  }

  #onError(args: ProcessErrorArgs): void {
    this.#lastError = Date.now();
    const transient = isServiceBusError(args.error) && args.error.retryable;
    this.#logger[transient ? "warn" : "error"](
      { err: args.error, source: args.errorSource },
      "Service Bus error",
    );
  }
}

/**
 * The handler's settlement, or "abandon" once the shutdown deadline passes while it still runs (a
 * storage call that hangs does not watch the deadline): the broker then redelivers at once rather
 * than when the lock expires. Recording is idempotent, so a write that lands after all does no harm.
 */
function untilDeadline(work: Promise<Settlement>, deadline: AbortSignal): Promise<Settlement> {
  return new Promise((resolve, reject) => {
    const abandon = () =>
      resolve({ action: "abandon", error: new Error("shutdown deadline passed with the write in flight") });
    if (deadline.aborted) abandon();
    else deadline.addEventListener("abort", abandon, { once: true });
    work.then(resolve, reject).finally(() => deadline.removeEventListener("abort", abandon));
  });
}
