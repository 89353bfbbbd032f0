/**
 * `--data-dir`: messages, sequence numbers, delivery counts and duplicate detection survive a
 * restart of the broker, after a clean close and after the process was killed with SIGKILL. The
 * official SDK over real sockets is the only client.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  ServiceBusClient,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
} from "@azure/service-bus";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceBusEmulatorConfig } from "../../../src/servicebus/config.ts";
import { startServiceBusEmulator } from "../../../src/servicebus/emulator.ts";

const bin = fileURLToPath(new URL("../../../src/bin.ts", import.meta.url));

const config: ServiceBusEmulatorConfig = {
  UserConfig: {
    Namespaces: [
      {
        Name: "sbemulatorns",
        Queues: [
          {
            Name: "orders",
            Properties: {
              LockDuration: "PT30S",
              MaxDeliveryCount: 5,
              DefaultMessageTimeToLive: "PT1H",
              RequiresDuplicateDetection: true,
              DuplicateDetectionHistoryTimeWindow: "PT10M",
            },
          },
        ],
        Topics: [
          {
            Name: "events",
            Properties: { DefaultMessageTimeToLive: "PT1H" },
            Subscriptions: [
              { Name: "all", Properties: { LockDuration: "PT30S", MaxDeliveryCount: 5 }, Rules: [] },
            ],
          },
        ],
      },
    ],
  },
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "servicebus-durable-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function start(dir: string, warnings: string[] = [], compactAfterBytes?: number) {
  const running = await startServiceBusEmulator({
    config,
    dataDir: dir,
    onWarning: (message) => warnings.push(message),
    ...(compactAfterBytes === undefined ? {} : { compactAfterBytes }),
  });
  const client = new ServiceBusClient(running.connectionString);
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await client.close();
    await running.close();
  };
  cleanups.push(stop);
  return { running, client, stop };
}

async function receiveAtLeast(
  receiver: ServiceBusReceiver,
  count: number,
  timeoutMs = 10_000,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const wait = Math.max(100, deadline - Date.now());
    received.push(...(await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: wait })));
  }
  return received;
}

const receiverOf = (client: ServiceBusClient, entity: string) =>
  client.createReceiver(entity, { maxAutoLockRenewalDurationInMs: 0 });

const sequence = (message: ServiceBusReceivedMessage | undefined) => Number(message?.sequenceNumber);

describe("Service Bus broker with a data directory", () => {
  it("keeps active, deferred, dead-lettered, locked and scheduled messages across a clean restart", async () => {
    const dir = await dataDir();
    const first = await start(dir);
    const sender = first.client.createSender("orders");
    await sender.sendMessages([
      {
        messageId: "m-active",
        body: { image: "app@sha256:1" },
        subject: "ScanRequested",
        contentType: "application/json",
        correlationId: "corr-1",
        applicationProperties: { registry: "ghcr.io", attempt: 3, retried: true },
      },
      { messageId: "m-deferred", body: "deferred" },
      { messageId: "m-dead", body: "dead" },
      { messageId: "m-abandoned", body: "abandoned" },
      { messageId: "m-locked", body: "locked" },
      { messageId: "m-completed", body: "completed" },
    ]);
    const scheduledAt = new Date(Date.now() + 2500);
    const [scheduledSequence] = await sender.scheduleMessages(
      { messageId: "m-scheduled", body: "scheduled" },
      scheduledAt,
    );
    const topicSender = first.client.createSender("events");
    await topicSender.sendMessages({ messageId: "e-1", body: "fanned out", subject: "ScanCompleted" });
    await topicSender.scheduleMessages({ messageId: "e-2", body: "scheduled on the topic" }, scheduledAt);

    const receiver = receiverOf(first.client, "orders");
    const received = await receiveAtLeast(receiver, 6);
    const byId = new Map(received.map((message) => [message.messageId, message]));
    const before = new Map(received.map((message) => [message.messageId, message]));
    await receiver.deferMessage(byId.get("m-deferred") as ServiceBusReceivedMessage, { deferredBy: "test" });
    await receiver.deadLetterMessage(byId.get("m-dead") as ServiceBusReceivedMessage, {
      deadLetterReason: "ImageNotFound",
      deadLetterErrorDescription: "the registry has no such manifest",
    });
    await receiver.abandonMessage(byId.get("m-abandoned") as ServiceBusReceivedMessage);
    await receiver.completeMessage(byId.get("m-completed") as ServiceBusReceivedMessage);
    await receiver.abandonMessage(byId.get("m-active") as ServiceBusReceivedMessage);
    // m-locked stays locked; m-active and m-abandoned are received and abandoned once more.
    const again = await receiveAtLeast(receiver, 2);
    expect(again.map((message) => message.messageId)).toEqual(["m-active", "m-abandoned"]);
    for (const message of again) await receiver.abandonMessage(message);
    await first.stop();

    const second = await start(dir);
    const orders = receiverOf(second.client, "orders");
    const redelivered = await receiveAtLeast(orders, 3);
    expect(redelivered.map((message) => message.messageId)).toEqual(["m-active", "m-abandoned", "m-locked"]);
    const [active, abandoned, locked] = redelivered as [
      ServiceBusReceivedMessage,
      ServiceBusReceivedMessage,
      ServiceBusReceivedMessage,
    ];
    const original = before.get("m-active") as ServiceBusReceivedMessage;
    expect(active.body).toEqual({ image: "app@sha256:1" });
    expect(active.subject).toBe("ScanRequested");
    expect(active.contentType).toBe("application/json");
    expect(active.correlationId).toBe("corr-1");
    expect(active.applicationProperties).toEqual({ registry: "ghcr.io", attempt: 3, retried: true });
    expect(active.sequenceNumber?.toString()).toBe(original.sequenceNumber?.toString());
    expect(active.enqueuedTimeUtc).toEqual(original.enqueuedTimeUtc);
    expect(active.deliveryCount).toBe(2);
    expect(abandoned.deliveryCount).toBe(2);
    // A lock does not survive: the message is back with the delivery count of its locked delivery.
    expect(locked.deliveryCount).toBe(1);
    expect(sequence(locked)).toBe(sequence(before.get("m-locked")));

    const [deferred] = await orders.receiveDeferredMessages([
      (before.get("m-deferred") as ServiceBusReceivedMessage).sequenceNumber as never,
    ]);
    expect(deferred?.body).toBe("deferred");
    expect(deferred?.applicationProperties).toEqual({ deferredBy: "test" });
    expect(deferred?.deliveryCount).toBe(1);

    const deadLetters = receiverOf(second.client, "orders/$DeadLetterQueue");
    const [dead] = await receiveAtLeast(deadLetters, 1);
    expect(dead?.body).toBe("dead");
    expect(dead?.deadLetterReason).toBe("ImageNotFound");
    expect(dead?.deadLetterErrorDescription).toBe("the registry has no such manifest");
    expect(sequence(dead)).toBe(sequence(before.get("m-dead")));
    expect(dead?.deliveryCount).toBe(1);

    const [scheduled] = await receiveAtLeast(orders, 1);
    expect(scheduled?.messageId).toBe("m-scheduled");
    expect(sequence(scheduled)).toBe(Number(scheduledSequence));
    expect(scheduled?.enqueuedTimeUtc?.getTime()).toBe(scheduledAt.getTime());

    const subscription = receiverOf(second.client, "events/Subscriptions/all");
    const fannedOut = await receiveAtLeast(subscription, 2);
    expect(fannedOut.map((message) => message.body)).toEqual(["fanned out", "scheduled on the topic"]);
    expect(fannedOut[0]?.subject).toBe("ScanCompleted");

    // Duplicate detection remembers ids sent before the restart; sequence numbers keep increasing.
    const secondSender = second.client.createSender("orders");
    await secondSender.sendMessages([
      { messageId: "m-completed", body: "a repeat" },
      { messageId: "m-new", body: "new" },
    ]);
    const [fresh] = await receiveAtLeast(orders, 1);
    expect(fresh?.messageId).toBe("m-new");
    expect(sequence(fresh)).toBeGreaterThan(Number(scheduledSequence));
    expect(await orders.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
    const peeked = await receiverOf(second.client, "orders").peekMessages(20);
    expect(peeked.length).toBeGreaterThan(0);
    expect(peeked.filter((message) => message.body === "a repeat")).toEqual([]);
  });

  it("keeps what was acknowledged when the broker process is killed with SIGKILL", async () => {
    const dir = await dataDir();
    const configFile = join(dir, "Config.json");
    await writeFile(configFile, JSON.stringify(config));
    const first = await runBroker(configFile, dir);
    const client = new ServiceBusClient(first.connectionString);
    const sender = client.createSender("orders");
    await sender.sendMessages(
      Array.from({ length: 50 }, (_, n) => ({
        messageId: `k-${n}`,
        body: { n },
        applicationProperties: { n },
      })),
    );
    const receiver = receiverOf(client, "orders");
    const taken = await receiveAtLeast(receiver, 50);
    expect(taken).toHaveLength(50);
    for (const message of taken.slice(0, 10)) await receiver.completeMessage(message);
    await receiver.deadLetterMessage(taken[10] as ServiceBusReceivedMessage, {
      deadLetterReason: "Poison",
      deadLetterErrorDescription: "cannot be parsed",
    });
    // The other 39 stay locked when the process dies.
    first.child.kill("SIGKILL");
    await first.exited;
    await client.close();

    const second = await runBroker(configFile, dir);
    const after = new ServiceBusClient(second.connectionString);
    cleanups.push(() => after.close());
    const orders = receiverOf(after, "orders");
    const back = await receiveAtLeast(orders, 39);
    expect(back.map((message) => message.body.n)).toEqual(Array.from({ length: 39 }, (_, k) => k + 11));
    expect(back.map((message) => message.applicationProperties?.n)).toEqual(back.map((m) => m.body.n));
    expect(back.every((message) => message.deliveryCount === 1)).toBe(true);
    expect(back.map(sequence)).toEqual(taken.slice(11).map(sequence));
    const [dead] = await receiveAtLeast(receiverOf(after, "orders/$DeadLetterQueue"), 1);
    expect(dead?.deadLetterReason).toBe("Poison");
    expect(dead?.body).toEqual({ n: 10 });

    const sender2 = after.createSender("orders");
    await sender2.sendMessages([
      { messageId: "k-3", body: "repeat" },
      { messageId: "k-new", body: "new" },
    ]);
    const [fresh] = await receiveAtLeast(orders, 1);
    expect(fresh?.messageId).toBe("k-new");
    expect(sequence(fresh)).toBe(sequence(taken[49]) + 1);
    expect(await orders.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  });

  it("tolerates a torn last journal line and says so", async () => {
    const dir = await dataDir();
    const first = await start(dir);
    await first.client.createSender("orders").sendMessages({ messageId: "t-1", body: "kept" });
    await first.stop();
    await appendFile(join(dir, "servicebus-sbemulatorns.jsonl"), '{"t":"put","s":"orders","m":{"b":"AB');

    const warnings: string[] = [];
    const second = await start(dir, warnings);
    expect(warnings).toEqual([
      expect.stringMatching(/servicebus-sbemulatorns\.jsonl: ignored a torn or unreadable last line/),
    ]);
    const [kept] = await receiveAtLeast(receiverOf(second.client, "orders"), 1);
    expect(kept?.body).toBe("kept");
  });

  it("refuses a data directory written by an incompatible version, naming the file", async () => {
    const dir = await dataDir();
    const file = join(dir, "servicebus-sbemulatorns.jsonl");
    await writeFile(file, '{"t":"version","format":"qcs-servicebus-journal","version":99}\n');
    await expect(startServiceBusEmulator({ config, dataDir: dir })).rejects.toThrow(
      `${file} was written by an incompatible version (qcs-servicebus-journal version 99`,
    );
    // Nothing was rewritten or locked: the file is as it was and another start fails the same way.
    expect(await readFile(file, "utf8")).toContain('"version":99');
    await expect(startServiceBusEmulator({ config, dataDir: dir })).rejects.toThrow("incompatible version");
  });

  it("refuses a second broker on the same data directory", async () => {
    const dir = await dataDir();
    await start(dir);
    await expect(startServiceBusEmulator({ config, dataDir: dir })).rejects.toThrow(
      `is in use by another broker (process ${process.pid}`,
    );
  });

  it("compacts the journal while running without losing messages", async () => {
    const dir = await dataDir();
    const file = join(dir, "servicebus-sbemulatorns.jsonl");
    const first = await start(dir, [], 4096);
    const sender = first.client.createSender("orders");
    for (let round = 0; round < 5; round++) {
      await sender.sendMessages(
        Array.from({ length: 20 }, (_, n) => ({ messageId: `c-${round}-${n}`, body: "x".repeat(200) })),
      );
    }
    const receiver = receiverOf(first.client, "orders");
    for (const message of await receiveAtLeast(receiver, 60)) await receiver.completeMessage(message);
    await first.stop();
    // Rewritten as a snapshot after the last completions: no removals are left in it.
    const journal = await readFile(file, "utf8");
    expect(journal).not.toContain('"t":"del"');
    expect(journal.match(/"t":"put"/g)).toHaveLength(40);

    const second = await start(dir);
    const rest = await receiveAtLeast(receiverOf(second.client, "orders"), 40);
    expect(rest.map((message) => message.messageId)).toEqual(
      Array.from({ length: 40 }, (_, k) => `c-${Math.floor((k + 60) / 20)}-${(k + 60) % 20}`),
    );
  });
});

/** `npm run emulators` with --data-dir as a child process, so that it can be killed outright. */
async function runBroker(configFile: string, dir: string) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      bin,
      "--servicebus-port",
      "0",
      "--eventhubs-port",
      "0",
      "--servicebus-config",
      configFile,
      "--data-dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).on("line", (text) => {
      if (text.startsWith("servicebus: ")) resolve(text);
    });
    child.once("exit", (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  return { child, exited, connectionString: line.slice("servicebus: ".length) };
}
