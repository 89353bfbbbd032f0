/**
 * Service Bus fixtures for scanctl's integration tests: the project's broker configuration with
 * short locks, and dead letters made the way the services make them (a real send, a peek-lock
 * receive, a dead-letter settlement with a reason).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from "@azure/service-bus";
import { projectServiceBusConfigPath, type ServiceBusEmulatorConfig } from "@qcs/emulators";
import {
  buildScanCompletedMessage,
  buildScanRequestedMessage,
  parseImageRef,
  type ScanCompleted,
  type ScanRequested,
} from "@qcs/shared";
import Long from "long";

/** The project's Config.json with the given lock duration and maximum delivery count everywhere. */
export function brokerConfig(options: {
  lockDuration: string;
  maxDeliveryCount: number;
}): ServiceBusEmulatorConfig {
  const config = JSON.parse(readFileSync(projectServiceBusConfigPath, "utf8")) as {
    UserConfig: {
      Namespaces: Array<{
        Queues: Array<{ Properties: Record<string, unknown> }>;
        Topics: Array<{ Subscriptions: Array<{ Properties: Record<string, unknown> }> }>;
      }>;
    };
  };
  for (const namespace of config.UserConfig.Namespaces) {
    const receivables = [...namespace.Queues, ...namespace.Topics.flatMap((topic) => topic.Subscriptions)];
    for (const entity of receivables) {
      entity.Properties.LockDuration = options.lockDuration;
      entity.Properties.MaxDeliveryCount = options.maxDeliveryCount;
    }
  }
  return config as unknown as ServiceBusEmulatorConfig;
}

export function scanRequest(image: string, force = false): ScanRequested {
  const { ref, registry, repository, tag, digest } = parseImageRef(image);
  return {
    schemaVersion: 1,
    requestId: randomUUID(),
    requestedAt: new Date().toISOString(),
    force,
    image: { ref, registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) },
    sources: [
      {
        kind: "aci",
        resourceId:
          "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/cg",
        subscriptionId: "s",
        resourceGroup: "rg",
        resourceName: "cg",
      },
    ],
  };
}

export function scanResult(image: string): ScanCompleted {
  const request = scanRequest(image);
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    scanId: randomUUID(),
    requestId: request.requestId,
    image: request.image,
    sources: request.sources,
    status: "succeeded",
    attempt: 1,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    scanner: { name: "qscanner", version: "4.0.0", mode: "remote" },
    vulnerabilities: { critical: 0, high: 1, medium: 2, low: 3, informational: 0, total: 6 },
  };
}

export interface DeadLetterSpec<T> {
  body: T;
  reason: string;
  description: string;
}

/**
 * Sends each request to `scan-requests` and dead-letters it with its reason, as the scanner does.
 * Returns the dead letters' sequence numbers, in the order given.
 */
export async function deadLetterRequests(
  client: ServiceBusClient,
  queue: string,
  specs: Array<DeadLetterSpec<ScanRequested>>,
): Promise<bigint[]> {
  const sender = client.createSender(queue);
  await sender.sendMessages(specs.map((spec) => buildScanRequestedMessage(spec.body)));
  await sender.close();
  return deadLetterAll(
    client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 }),
    specs,
    (m) => String((m.body as ScanRequested).requestId),
    (spec) => spec.body.requestId,
  );
}

/** Publishes each result to the topic and dead-letters it from the subscription, as the recorder would. */
export async function deadLetterResults(
  client: ServiceBusClient,
  topic: string,
  subscription: string,
  specs: Array<DeadLetterSpec<ScanCompleted>>,
): Promise<bigint[]> {
  const sender = client.createSender(topic);
  await sender.sendMessages(specs.map((spec) => buildScanCompletedMessage(spec.body)));
  await sender.close();
  return deadLetterAll(
    client.createReceiver(topic, subscription, { maxAutoLockRenewalDurationInMs: 0 }),
    specs,
    (m) => String((m.body as ScanCompleted).scanId),
    (spec) => spec.body.scanId,
  );
}

async function deadLetterAll<T>(
  receiver: ServiceBusReceiver,
  specs: Array<DeadLetterSpec<T>>,
  keyOfMessage: (message: ServiceBusReceivedMessage) => string,
  keyOfSpec: (spec: DeadLetterSpec<T>) => string,
): Promise<bigint[]> {
  const received = await receiveExactly(receiver, specs.length);
  const byKey = new Map(received.map((message) => [keyOfMessage(message), message]));
  const sequenceNumbers: bigint[] = [];
  for (const spec of specs) {
    const message = byKey.get(keyOfSpec(spec));
    if (!message) throw new Error(`message ${keyOfSpec(spec)} was not received`);
    await receiver.deadLetterMessage(message, {
      deadLetterReason: spec.reason,
      deadLetterErrorDescription: spec.description,
    });
    sequenceNumbers.push(BigInt(String(message.sequenceNumber)));
  }
  await receiver.close();
  return sequenceNumbers;
}

/** Receives until `count` messages arrived (bounded: a hang fails the test instead). */
export async function receiveExactly(
  receiver: ServiceBusReceiver,
  count: number,
  deadlineMs = 20_000,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const until = Date.now() + deadlineMs;
  while (received.length < count && Date.now() < until) {
    received.push(...(await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: 1_000 })));
  }
  if (received.length < count) throw new Error(`received ${received.length} of ${count} messages`);
  return received;
}

/** Everything an entity holds, without locking (sequence-number order). */
export async function peekAll(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage[]> {
  const all: ServiceBusReceivedMessage[] = [];
  let fromSequenceNumber = Long.ZERO;
  for (;;) {
    const page = await receiver.peekMessages(100, { fromSequenceNumber });
    if (page.length === 0) break;
    all.push(...page);
    fromSequenceNumber = Long.fromValue(page[page.length - 1]?.sequenceNumber ?? Long.ZERO).add(1);
  }
  await receiver.close();
  return all;
}
