/**
 * The `notifications` queue: the recorder's outbox (send, messageId = scan ID + type, so the
 * queue's duplicate detection drops a notification decided again for a redelivered result) and the
 * notifier's peek-lock receiver, which hands each message to the delivery handler and carries out
 * its settlement. Its own receiver and concurrency: slow or failing webhooks never hold a result.
 */
import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import { buildNotificationMessage, type Logger, type Notification } from "@qcs/shared";
import type { NotificationSettlement } from "../../core/deliverNotification.ts";
import type { NotificationOutbox } from "../../core/ports.ts";
import { InFlightWork } from "./inFlightWork.ts";

export class NotificationSender implements NotificationOutbox {
  readonly #sender: ServiceBusSender;
  constructor(client: ServiceBusClient, queue: string) {
    this.#sender = client.createSender(queue);
  }
  async send(notification: Notification): Promise<void> {
    await this.#sender.sendMessages(buildNotificationMessage(notification));
  }
}

export type NotificationMessageHandler = (
  message: ServiceBusReceivedMessage,
  deadline: AbortSignal,
) => Promise<NotificationSettlement>;

export interface NotificationReceiverOptions {
  client: ServiceBusClient;
  queue: string;
  concurrency: number;
  handler: NotificationMessageHandler;
  logger: Logger;
  /** Lock renewal while webhooks are retried. */
  maxLockRenewalMs: number;
}

export class NotificationReceiver {
  readonly #options: NotificationReceiverOptions;
  readonly #logger: Logger;
  readonly #inFlight = new InFlightWork();
  #receiver: ServiceBusReceiver | undefined;
  #subscription: { close(): Promise<void> } | undefined;

  constructor(options: NotificationReceiverOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "notifier", queue: options.queue });
  }

  start(): void {
    const receiver = this.#options.client.createReceiver(this.#options.queue, {
      receiveMode: "peekLock",
      maxAutoLockRenewalDurationInMs: this.#options.maxLockRenewalMs,
    });
    this.#receiver = receiver;
    this.#subscription = receiver.subscribe(
      {
        processMessage: (message) => this.#inFlight.track(this.#process(receiver, message)),
        processError: async (args) => {
          this.#logger.warn({ err: args.error, source: args.errorSource }, "Service Bus error");
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.#options.concurrency },
    );
    this.#logger.info("receiving notifications");
  }

  ready(): boolean {
    return this.#receiver !== undefined && !this.#receiver.isClosed && !this.#inFlight.stopping.aborted;
  }

  async stopIntake(): Promise<void> {
    await this.#subscription?.close();
  }

  /** Webhooks still retrying at the deadline give their message back to the broker. */
  async drain(deadline: AbortSignal): Promise<void> {
    await this.#inFlight.drain(deadline);
  }

  async close(): Promise<void> {
    await this.#inFlight.stop();
    await this.#receiver?.close();
  }

  async #process(receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage): Promise<void> {
    const log = this.#logger.child({ messageId: message.messageId, deliveryCount: message.deliveryCount });
    try {
      const settlement = await this.#options.handler(message, this.#inFlight.stopping);
      if (settlement.action === "complete") {
        await receiver.completeMessage(message);
        log.info({ delivered: settlement.delivered }, "notification delivered");
      } else if (settlement.action === "deadLetter") {
        await receiver.deadLetterMessage(message, {
          deadLetterReason: settlement.reason,
          deadLetterErrorDescription: settlement.description,
          ...settlement.properties,
        });
        log.warn(
          { reason: settlement.reason, description: settlement.description },
          "notification dead-lettered",
        );
      } else {
        await receiver.abandonMessage(message);
      }
    } catch (error) {
      log.error({ err: error }, "notification handling failed: abandoning for redelivery");
      await receiver.abandonMessage(message).catch(() => undefined);
    }
  }
}
