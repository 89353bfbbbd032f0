/** The Service Bus sender adapter against the Service Bus emulator, through @azure/service-bus. */
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { buildScanRequestedMessage, parseImageRef } from "@qcs/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceBusScanRequestSink } from "../../src/adapters/serviceBus/scanRequestSender.ts";
import type { ScanRequestMessage } from "../../src/core/batchProcessor.ts";
import { SUBSCRIPTION } from "../support/fixtures.ts";

const QUEUE = "scan-requests";
const signal = new AbortController().signal;
let sequence = 0;

function request(image: string, sources = 1, resourceIdPadding = ""): ScanRequestMessage {
  return buildScanRequestedMessage({
    schemaVersion: 1,
    requestId: crypto.randomUUID(),
    requestedAt: "2025-03-14T12:10:00.000Z",
    force: false,
    image: parseImageRef(image),
    sources: Array.from({ length: sources }, (_, index) => ({
      kind: "aca" as const,
      resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/containerApps/app-${index}${resourceIdPadding}`,
      subscriptionId: SUBSCRIPTION,
      resourceGroup: "rg",
      resourceName: `app-${index}`,
      containerName: "main",
    })),
  });
}

describe("sending scan requests to the scan-requests queue", () => {
  let broker: RunningServiceBusEmulator;
  let client: ServiceBusClient;
  beforeAll(async () => {
    broker = await startServiceBusEmulator();
    client = new ServiceBusClient(broker.connectionString);
  });
  afterAll(async () => {
    await client?.close();
    await broker?.close();
  });

  async function drain(expected: number): Promise<ServiceBusReceivedMessage[]> {
    const receiver = client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
    const received: ServiceBusReceivedMessage[] = [];
    try {
      while (received.length < expected) {
        const batch = await receiver.receiveMessages(expected - received.length, { maxWaitTimeInMs: 5000 });
        if (batch.length === 0) break;
        received.push(...batch);
      }
      return received;
    } finally {
      await receiver.close();
    }
  }

  async function nothingMore(): Promise<number> {
    const receiver = client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
    try {
      return (await receiver.receiveMessages(10, { maxWaitTimeInMs: 1500 })).length;
    } finally {
      await receiver.close();
    }
  }

  it("sends every message with its body, message ID, subject, content type and application properties", async () => {
    const sink = serviceBusScanRequestSink(client.createSender(QUEUE));
    const messages = [request(`nginx:${++sequence}`), request(`redis:${++sequence}`)];
    const result = await sink.send(messages, signal);
    expect(result).toEqual({ accepted: new Set(messages.map((m) => m.messageId)), rejected: new Set() });

    const received = await drain(2);
    expect(
      received.map((m) => ({
        body: m.body,
        messageId: m.messageId,
        subject: m.subject,
        contentType: m.contentType,
        applicationProperties: m.applicationProperties,
      })),
    ).toEqual(messages.map((m) => ({ ...m })));
  });

  it("lets the broker's duplicate detection drop a repeat of a message ID", async () => {
    const sink = serviceBusScanRequestSink(client.createSender(QUEUE));
    const message = request(`busybox:${++sequence}`);
    await sink.send([message], signal);
    const again = await sink.send(
      [{ ...message, body: { ...message.body, requestId: crypto.randomUUID() } }],
      signal,
    );
    expect(again.accepted).toEqual(new Set([message.messageId]));
    expect((await drain(1)).map((m) => m.messageId)).toEqual([message.messageId]);
    expect(await nothingMore()).toBe(0);
  });

  it("splits what does not fit one batch into several", async () => {
    const sink = serviceBusScanRequestSink(client.createSender(QUEUE));
    // ~25 KiB each: a 256 KiB batch holds about ten.
    const messages = Array.from({ length: 30 }, () => request(`alpine:${++sequence}`, 100, "-x".repeat(40)));
    const result = await sink.send(messages, signal);
    expect(result.accepted.size).toBe(30);
    expect(new Set((await drain(30)).map((m) => m.messageId))).toEqual(result.accepted);
  });

  it("reports a message larger than the broker allows as rejected and sends the others", async () => {
    const sink = serviceBusScanRequestSink(client.createSender(QUEUE));
    const small = request(`debian:${++sequence}`);
    const huge = request(`ubuntu:${++sequence}`, 100, "-y".repeat(1500));
    const result = await sink.send([small, huge], signal);
    expect(result).toEqual({ accepted: new Set([small.messageId]), rejected: new Set([huge.messageId]) });
    expect((await drain(1)).map((m) => m.messageId)).toEqual([small.messageId]);
  });

  it("returns the error, with nothing accepted, when the broker cannot be reached", async () => {
    const down = await startServiceBusEmulator();
    await down.close();
    const unreachable = new ServiceBusClient(down.connectionString, {
      retryOptions: { maxRetries: 0, timeoutInMs: 3000 },
    });
    try {
      const result = await serviceBusScanRequestSink(unreachable.createSender(QUEUE)).send(
        [request(`fedora:${++sequence}`)],
        signal,
      );
      expect(result.accepted.size).toBe(0);
      expect(result.error).toBeInstanceOf(Error);
    } finally {
      await unreachable.close();
    }
  });
});
