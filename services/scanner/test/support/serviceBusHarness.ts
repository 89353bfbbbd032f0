// Service Bus plumbing for the scanner's integration tests: an emulator configuration with two
// request queues (deployment and sweep) and one topic per test (so tests cannot see each other's messages), request builders, and
// receivers that collect what the scanner produced.

import { randomUUID } from "node:crypto";
import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import {
  buildScanRequestedMessage,
  parseImageRef,
  parseScanCompletedMessage,
  type ScanCompleted,
  type ScanRequested,
} from "@qcs/shared";
import { waitFor } from "@qcs/test-support";

export interface EntityOptions {
  /** ISO-8601 lock duration of the requests queue. Default: PT30S (tests of lock behaviour set PT2S). */
  lockDuration?: string;
  /** Default: 3. */
  maxDeliveryCount?: number;
}

/**
 * A Microsoft Service Bus emulator Config.json with `requests-<key>`, `requests-<key>-sweep` and
 * `completed-<key>` (subscription `recorder`).
 */
export function emulatorConfig(entities: Record<string, EntityOptions>) {
  const keys = Object.keys(entities);
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: keys
            .flatMap((key) => [`requests-${key}`, `requests-${key}-sweep`])
            .map((name) => ({
              Name: name,
              Properties: {
                DeadLetteringOnMessageExpiration: true,
                DefaultMessageTimeToLive: "PT1H",
                DuplicateDetectionHistoryTimeWindow: "PT10M",
                LockDuration: entities[name.replace(/^requests-|-sweep$/g, "")]?.lockDuration ?? "PT30S",
                MaxDeliveryCount: entities[name.replace(/^requests-|-sweep$/g, "")]?.maxDeliveryCount ?? 3,
                RequiresDuplicateDetection: true,
                RequiresSession: false,
              },
            })),
          Topics: keys.map((key) => ({
            Name: `completed-${key}`,
            // As in Azure (infra/): results are deduplicated by messageId.
            Properties: {
              DefaultMessageTimeToLive: "PT1H",
              DuplicateDetectionHistoryTimeWindow: "PT10M",
              RequiresDuplicateDetection: true,
            },
            Subscriptions: [
              { Name: "recorder", Properties: { LockDuration: "PT30S", MaxDeliveryCount: 10 }, Rules: [] },
            ],
          })),
        },
      ],
      Logging: { Type: "Console" },
    },
  };
}

export function scanRequest(imageRef: string, overrides: Partial<ScanRequested> = {}): ScanRequested {
  return {
    schemaVersion: 1,
    requestId: randomUUID(),
    requestedAt: new Date().toISOString(),
    force: false,
    image: parseImageRef(imageRef),
    sources: [
      {
        kind: "aci",
        resourceId:
          "/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg-test/providers/Microsoft.ContainerInstance/containerGroups/cg-test",
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg-test",
        resourceName: "cg-test",
      },
    ],
    ...overrides,
  };
}

/** A unique tag, so no two tests (or runs) share an image and its simulator state. */
export const uniqueTag = (words: string) => `${words}-${randomUUID().slice(0, 8)}`;

export class TestEntities {
  readonly queue: string;
  readonly sweepQueue: string;
  readonly topic: string;
  readonly sender: ServiceBusSender;
  readonly sweepSender: ServiceBusSender;
  readonly #completed: ServiceBusReceiver;
  readonly #deadLetters: ServiceBusReceiver;
  readonly #client: ServiceBusClient;
  readonly results: ScanCompleted[] = [];

  constructor(client: ServiceBusClient, key: string) {
    this.queue = `requests-${key}`;
    this.sweepQueue = `requests-${key}-sweep`;
    this.topic = `completed-${key}`;
    this.sender = client.createSender(this.queue);
    this.sweepSender = client.createSender(this.sweepQueue);
    this.#completed = client.createReceiver(this.topic, "recorder", { receiveMode: "receiveAndDelete" });
    this.#deadLetters = client.createReceiver(this.queue, {
      subQueueType: "deadLetter",
      receiveMode: "receiveAndDelete",
    });
    this.#client = client;
  }

  async send(request: ScanRequested): Promise<void> {
    await this.sender.sendMessages(buildScanRequestedMessage(request));
  }

  async sendSweep(requests: ScanRequested[]): Promise<void> {
    await this.sweepSender.sendMessages(requests.map(buildScanRequestedMessage));
  }

  async sendRaw(message: ServiceBusMessage): Promise<void> {
    await this.sender.sendMessages(message);
  }

  /** Collects ScanCompleted messages until `count` match `requestId`, or fails after `timeoutMs`. */
  async completedFor(requestId: string, count = 1, timeoutMs = 20_000): Promise<ScanCompleted[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.results.filter((scan) => scan.requestId === requestId);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) {
        throw new Error(`expected ${count} ScanCompleted for ${requestId}, got ${matching.length}`);
      }
      await this.#drainCompleted(500);
    }
  }

  /** Every ScanCompleted for `requestId` that arrives within `quietMs` more. */
  async allCompletedFor(requestId: string, quietMs: number): Promise<ScanCompleted[]> {
    const until = Date.now() + quietMs;
    while (Date.now() < until) await this.#drainCompleted(Math.max(100, until - Date.now()));
    return this.results.filter((scan) => scan.requestId === requestId);
  }

  async nextDeadLetter(timeoutMs = 20_000): Promise<ServiceBusReceivedMessage> {
    const [message] = await this.#deadLetters.receiveMessages(1, { maxWaitTimeInMs: timeoutMs });
    if (!message) throw new Error(`no dead letter on ${this.queue} within ${timeoutMs} ms`);
    return message;
  }

  /** Waits until the requests queue holds nothing (active or scheduled). */
  async queueDrained(timeoutMs = 10_000): Promise<boolean> {
    const empty = async () => {
      // A fresh receiver each time: a receiver's peek continues after what it peeked last.
      const peeker = this.#client.createReceiver(this.queue);
      const peeked = await peeker.peekMessages(10);
      await peeker.close();
      return peeked.length === 0;
    };
    return waitFor(empty, `an empty ${this.queue}`, { timeoutMs, intervalMs: 200 }).catch(() => false);
  }

  async #drainCompleted(waitMs: number): Promise<void> {
    const messages = await this.#completed.receiveMessages(50, { maxWaitTimeInMs: waitMs });
    for (const message of messages) this.results.push(parseScanCompletedMessage(message));
  }

  async close(): Promise<void> {
    await this.sender.close();
    await this.sweepSender.close();
    await this.#completed.close();
    await this.#deadLetters.close();
  }
}
