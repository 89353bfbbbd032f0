/**
 * What is still in the scan request queues (deployments' and the sweep's), the recorder's
 * subscription and the notifications queue (a result is handled once its notification is delivered
 * or dead-lettered), by peeking: a peek
 * locks nothing and sees messages in every state, locked ones included, so it never disturbs the
 * services.
 */
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from "@azure/service-bus";
import { APP_PROPERTY } from "@qcs/shared";
import Long from "long";
import type { PendingMessage } from "../../core/completion.ts";

export interface PeekedEntities {
  /** The request queues: deployments' and the sweep's. */
  queues: readonly string[];
  topic: string;
  subscription: string;
  notifications: string;
}

const PAGE = 250;

export class ServiceBusPeek {
  readonly #client: ServiceBusClient;
  readonly #entities: PeekedEntities;

  constructor(client: ServiceBusClient, entities: PeekedEntities) {
    this.#client = client;
    this.#entities = entities;
  }

  async pendingRequests(now = Date.now()): Promise<PendingMessage[]> {
    const queues = await Promise.all(
      this.#entities.queues.map((queue) => this.#peekAll(this.#client.createReceiver(queue))),
    );
    return queues
      .flat()
      .map((message) => pending(message, stringProperty(message, APP_PROPERTY.imageRef), now));
  }

  async pendingResults(now = Date.now()): Promise<PendingMessage[]> {
    const { topic, subscription } = this.#entities;
    const [results, notifications] = await Promise.all([
      this.#peekAll(this.#client.createReceiver(topic, subscription)),
      this.#peekAll(this.#client.createReceiver(this.#entities.notifications)),
    ]);
    return [
      ...results.map((message) => pending(message, bodyImageRef(message), now)),
      ...notifications.map((message) =>
        pending(message, stringProperty(message, APP_PROPERTY.imageRef), now),
      ),
    ];
  }

  /**
   * Every message of the entity, from the first. The position is always given: the SDK keeps the
   * last peeked sequence number per entity, across receivers.
   */
  async #peekAll(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage[]> {
    try {
      const all: ServiceBusReceivedMessage[] = [];
      let fromSequenceNumber = Long.ZERO;
      for (;;) {
        const page = await receiver.peekMessages(PAGE, { fromSequenceNumber });
        all.push(...page);
        const last = page[page.length - 1]?.sequenceNumber;
        if (page.length < PAGE || last === undefined) return all;
        fromSequenceNumber = Long.fromValue(last).add(1);
      }
    } finally {
      await receiver.close();
    }
  }
}

function pending(
  message: ServiceBusReceivedMessage,
  imageRef: string | undefined,
  now: number,
): PendingMessage {
  const locked = message.lockedUntilUtc !== undefined && message.lockedUntilUtc.getTime() > now;
  const state = message.state === "active" ? (locked ? "in progress" : "waiting") : message.state;
  return { imageRef, state };
}

function stringProperty(message: ServiceBusReceivedMessage, name: string): string | undefined {
  const value = message.applicationProperties?.[name];
  return typeof value === "string" ? value : undefined;
}

function bodyImageRef(message: ServiceBusReceivedMessage): string | undefined {
  const body = message.body as { image?: { ref?: unknown } } | undefined;
  return typeof body?.image?.ref === "string" ? body.image.ref : undefined;
}
