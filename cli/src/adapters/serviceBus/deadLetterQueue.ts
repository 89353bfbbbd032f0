/**
 * A dead-letter queue over `@azure/service-bus`: peeks for browsing (nothing locked), and
 * peek-lock receives for resubmission and purging (the order of effects lives in
 * `core/settlement.ts`; this file only maps messages and settles them).
 */
import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import Long from "long";
import type { DeadLetter } from "../../core/deadLetters.ts";
import type { DeadLetterQueue, PeekResult } from "../../core/ports.ts";
import type { ResubmissionCopy } from "../../core/resubmission.ts";
import {
  type CopySender,
  type DeadLetterReceiver,
  type LockedDeadLetter,
  type SettleAction,
  type SettleOptions,
  type SettleReport,
  settleDeadLetters,
} from "../../core/settlement.ts";
import { translateServiceBusError } from "./errors.ts";

/** The main entity whose dead letters these are. */
export type DeadLetterSource = { queue: string } | { topic: string; subscription: string };

export interface ServiceBusDeadLetterQueueOptions {
  /** How long a receive waits for dead letters before concluding there are none left. Default: 3 s. */
  receiveWaitMs?: number;
  /** Locks held during a long resubmission are renewed up to this long. Default: 30 min. */
  maxLockRenewalMs?: number;
}

const PEEK_PAGE = 250;

export class ServiceBusDeadLetterQueue implements DeadLetterQueue {
  readonly path: string;
  readonly resubmitTo: string;
  readonly #client: ServiceBusClient;
  readonly #source: DeadLetterSource;
  readonly #receiveWaitMs: number;
  readonly #maxLockRenewalMs: number;

  constructor(
    client: ServiceBusClient,
    source: DeadLetterSource,
    options: ServiceBusDeadLetterQueueOptions = {},
  ) {
    this.#client = client;
    this.#source = source;
    this.#receiveWaitMs = options.receiveWaitMs ?? 3_000;
    this.#maxLockRenewalMs = options.maxLockRenewalMs ?? 30 * 60_000;
    const entity = "queue" in source ? source.queue : `${source.topic}/Subscriptions/${source.subscription}`;
    this.path = `${entity}/$DeadLetterQueue`;
    // Service Bus cannot send to one subscription: a result goes back through its topic.
    this.resubmitTo = "queue" in source ? source.queue : source.topic;
  }

  async peek(options: { maxMessages: number }): Promise<PeekResult> {
    const receiver = this.#receiver("peekLock");
    try {
      const deadLetters: DeadLetter[] = [];
      let fromSequenceNumber = Long.ZERO;
      while (deadLetters.length < options.maxMessages) {
        const page = await receiver.peekMessages(
          Math.min(PEEK_PAGE, options.maxMessages - deadLetters.length),
          {
            fromSequenceNumber,
          },
        );
        if (page.length === 0) return { deadLetters, truncated: false };
        for (const message of page) deadLetters.push(toDeadLetter(message));
        fromSequenceNumber = Long.fromValue(lastOf(page).sequenceNumber ?? Long.ZERO).add(1);
      }
      const more = await receiver.peekMessages(1, { fromSequenceNumber });
      return { deadLetters, truncated: more.length > 0 };
    } catch (error) {
      throw translateServiceBusError(error, this.path);
    } finally {
      await receiver.close().catch(() => {});
    }
  }

  async peekOne(sequenceNumber: bigint): Promise<DeadLetter | undefined> {
    const receiver = this.#receiver("peekLock");
    try {
      const [message] = await receiver.peekMessages(1, {
        fromSequenceNumber: Long.fromString(sequenceNumber.toString()),
      });
      const found = message === undefined ? undefined : toDeadLetter(message);
      return found?.sequenceNumber === sequenceNumber ? found : undefined;
    } catch (error) {
      throw translateServiceBusError(error, this.path);
    } finally {
      await receiver.close().catch(() => {});
    }
  }

  async resubmit(selected: ReadonlySet<bigint>, options: SettleOptions = {}): Promise<SettleReport> {
    const sender = this.#client.createSender(this.resubmitTo);
    try {
      return await this.#settle(
        selected,
        { kind: "resubmit", sender: copySender(sender, this.resubmitTo) },
        options,
      );
    } finally {
      await sender.close().catch(() => {});
    }
  }

  purge(selected: ReadonlySet<bigint>, options: SettleOptions = {}): Promise<SettleReport> {
    return this.#settle(selected, { kind: "purge" }, options);
  }

  async #settle(
    selected: ReadonlySet<bigint>,
    action: SettleAction,
    options: SettleOptions,
  ): Promise<SettleReport> {
    const receiver = this.#receiver("peekLock");
    try {
      const report = await settleDeadLetters(
        lockedReceiver(receiver, this.#receiveWaitMs),
        selected,
        action,
        options,
      );
      if (report.failure !== undefined) report.failure = translateServiceBusError(report.failure, this.path);
      return report;
    } finally {
      await receiver.close().catch(() => {});
    }
  }

  #receiver(receiveMode: "peekLock"): ServiceBusReceiver {
    const options = {
      subQueueType: "deadLetter" as const,
      receiveMode,
      maxAutoLockRenewalDurationInMs: this.#maxLockRenewalMs,
    };
    return "queue" in this.#source
      ? this.#client.createReceiver(this.#source.queue, options)
      : this.#client.createReceiver(this.#source.topic, this.#source.subscription, options);
  }
}

interface LockedMessage extends LockedDeadLetter {
  readonly message: ServiceBusReceivedMessage;
}

function lockedReceiver(
  receiver: ServiceBusReceiver,
  maxWaitTimeInMs: number,
): DeadLetterReceiver<LockedMessage> {
  return {
    async receive(maxCount) {
      const messages = await receiver.receiveMessages(maxCount, { maxWaitTimeInMs });
      return messages.map((message) => ({ message, deadLetter: toDeadLetter(message) }));
    },
    complete: ({ message }) => receiver.completeMessage(message),
    abandon: ({ message }) => receiver.abandonMessage(message),
  };
}

function copySender(sender: ServiceBusSender, target: string): CopySender {
  return {
    async sendSome(copies) {
      const batch = await sender.createMessageBatch();
      for (const copy of copies) {
        if (!batch.tryAddMessage(toServiceBusMessage(copy))) break;
      }
      if (batch.count === 0) {
        throw new Error(`the copy of a dead letter does not fit in a message to ${target} (too large)`);
      }
      await sender.sendMessages(batch);
      return batch.count;
    },
  };
}

export function toServiceBusMessage(copy: ResubmissionCopy): ServiceBusMessage {
  return {
    messageId: copy.messageId,
    body: copy.body,
    ...(copy.subject === undefined ? {} : { subject: copy.subject }),
    ...(copy.contentType === undefined ? {} : { contentType: copy.contentType }),
    ...(copy.correlationId === undefined ? {} : { correlationId: copy.correlationId }),
    ...(copy.sessionId === undefined ? {} : { sessionId: copy.sessionId }),
    ...(copy.partitionKey === undefined ? {} : { partitionKey: copy.partitionKey }),
    applicationProperties: copy.applicationProperties as ServiceBusMessage["applicationProperties"],
  };
}

export function toDeadLetter(message: ServiceBusReceivedMessage): DeadLetter {
  return {
    sequenceNumber: BigInt((message.sequenceNumber ?? Long.ZERO).toString()),
    messageId: message.messageId === undefined ? undefined : String(message.messageId),
    enqueuedAt: message.enqueuedTimeUtc,
    deliveryCount: message.deliveryCount,
    reason: message.deadLetterReason,
    description: message.deadLetterErrorDescription,
    subject: message.subject,
    contentType: message.contentType,
    correlationId: message.correlationId === undefined ? undefined : String(message.correlationId),
    sessionId: message.sessionId,
    partitionKey: message.partitionKey,
    applicationProperties: message.applicationProperties ?? {},
    body: message.body,
  };
}

function lastOf<T>(items: readonly T[]): T {
  return items[items.length - 1] as T;
}
