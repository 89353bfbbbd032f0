/**
 * Service Bus conformance: the official `@azure/service-bus` SDK over real sockets is the only
 * client. The same suite runs against this repository's broker and, when a Docker engine answers,
 * against Microsoft's emulator, so what passes here behaves the same there.
 */
import {
  type ServiceBusClient as Client,
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusReceiverOptions,
} from "@azure/service-bus";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  broker,
  durableBroker,
  microsoftEmulator,
  type ServiceBusTarget,
} from "../../support/servicebus/targets.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Receives until `count` messages arrived or `timeoutMs` passed (the SDK returns early batches). */
async function receiveAtLeast(
  receiver: ServiceBusReceiver,
  count: number,
  timeoutMs = 5000,
): Promise<ServiceBusReceivedMessage[]> {
  const received: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const wait = Math.max(100, deadline - Date.now());
    received.push(...(await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: wait })));
  }
  return received;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

const codeOf = (error: unknown) => (isServiceBusError(error) ? error.code : String(error));

for (const kind of [broker, durableBroker, microsoftEmulator]) {
  const unavailable = await kind.unavailable();
  // Concurrent: each test has its own queue (the topic's tests, which share it, run in sequence),
  // so the tests that wait out a lock, a TTL or a window wait at the same time, and the targets too.
  describe.skipIf(unavailable !== undefined)(
    `Service Bus conformance: ${kind.name}${unavailable ? ` (skipped: ${unavailable})` : ""}`,
    { concurrent: true },
    () => {
      let target: ServiceBusTarget;
      let client: Client;
      const receivers: ServiceBusReceiver[] = [];
      /** Receivers are closed with the client; auto lock renewal off unless a test wants it. */
      const receiver = (entity: string, options: ServiceBusReceiverOptions = {}): ServiceBusReceiver => {
        const created = client.createReceiver(entity, { maxAutoLockRenewalDurationInMs: 0, ...options });
        receivers.push(created);
        return created;
      };
      const send = async (entity: string, ...messages: ServiceBusMessage[]) => {
        const sender = client.createSender(entity);
        for (const message of messages) await sender.sendMessages(message);
        await sender.close();
      };

      beforeAll(async () => {
        target = await kind.start();
        client = new ServiceBusClient(target.connectionString);
      }, 240_000);
      afterAll(async () => {
        await client?.close();
        await target?.close();
      });

      it("delivers a message with its body, properties, sequence number, lock and a zero delivery count", async () => {
        const before = Date.now();
        await send("properties", {
          body: { image: "ghcr.io/acme/app:1.0" },
          messageId: "scan-1",
          correlationId: "corr-1",
          subject: "ScanRequested",
          contentType: "application/json",
          to: "scanner",
          replyTo: "nobody",
          timeToLive: 600_000,
          applicationProperties: { registry: "ghcr.io", attempt: 2, force: false },
        });
        const peekLock = receiver("properties");
        const [message] = await receiveAtLeast(peekLock, 1);
        expect(message?.body).toEqual({ image: "ghcr.io/acme/app:1.0" });
        expect(message).toMatchObject({
          messageId: "scan-1",
          correlationId: "corr-1",
          subject: "ScanRequested",
          contentType: "application/json",
          to: "scanner",
          replyTo: "nobody",
          timeToLive: 600_000,
          deliveryCount: 0,
          state: "active",
          applicationProperties: { registry: "ghcr.io", attempt: 2, force: false },
        });
        expect(message?.sequenceNumber?.toNumber()).toBeGreaterThanOrEqual(1);
        expect(message?.lockToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(message?.enqueuedTimeUtc?.getTime()).toBeGreaterThanOrEqual(before - 1000);
        expect(message?.lockedUntilUtc?.getTime()).toBeGreaterThan(message?.enqueuedTimeUtc?.getTime() ?? 0);
        expect(message?.expiresAtUtc?.getTime()).toBe((message?.enqueuedTimeUtc?.getTime() ?? 0) + 600_000);
        await peekLock.completeMessage(message as ServiceBusReceivedMessage);
      });

      it("takes batches sized by the advertised maximum message size, in order with rising sequence numbers", async () => {
        const sender = client.createSender("batches");
        const batch = await sender.createMessageBatch();
        expect(batch.maxSizeInBytes).toBe(262_144);
        for (let n = 0; n < 3; n++) expect(batch.tryAddMessage({ body: `batch-${n}` })).toBe(true);
        await sender.sendMessages(batch);
        await sender.sendMessages([{ body: "array-0" }, { body: "array-1" }]);
        await sender.close();
        const messages = await receiveAtLeast(receiver("batches", { receiveMode: "receiveAndDelete" }), 5);
        expect(messages.map((m) => m.body)).toEqual(["batch-0", "batch-1", "batch-2", "array-0", "array-1"]);
        const numbers = messages.map((m) => m.sequenceNumber?.toNumber() ?? 0);
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
        expect(new Set(numbers).size).toBe(5);
      });

      it("removes messages on delivery in receive-and-delete mode, without lock tokens", async () => {
        await send("receive-and-delete", { body: "once" });
        const deleting = receiver("receive-and-delete", { receiveMode: "receiveAndDelete" });
        const [message] = await receiveAtLeast(deleting, 1);
        expect(message?.body).toBe("once");
        expect(message?.lockToken).toBeUndefined();
        expect(await deleting.peekMessages(10)).toEqual([]);
      });

      it("completes, and redelivers an abandoned message with its delivery count raised and properties modified", async () => {
        await send("settle", { body: "done" }, { body: "again" });
        const peekLock = receiver("settle");
        const [done, again] = await receiveAtLeast(peekLock, 2);
        await peekLock.completeMessage(done as ServiceBusReceivedMessage);
        await peekLock.abandonMessage(again as ServiceBusReceivedMessage, { retried: true });
        const [redelivered] = await receiveAtLeast(peekLock, 1);
        expect(redelivered?.body).toBe("again");
        expect(redelivered?.deliveryCount).toBe(1);
        expect(redelivered?.sequenceNumber?.toNumber()).toBe(again?.sequenceNumber?.toNumber());
        expect(redelivered?.lockToken).not.toBe(again?.lockToken);
        expect(redelivered?.applicationProperties).toMatchObject({ retried: true });
        await peekLock.completeMessage(redelivered as ServiceBusReceivedMessage);
        expect(await peekLock.peekMessages(10)).toEqual([]);
      });

      it("dead-letters with reason and description; the dead-letter queue is received, peeked and completed, not dead-lettered again", async () => {
        await send("dead-letter", {
          body: "poison",
          messageId: "poison-1",
          applicationProperties: { registry: "docker.io" },
        });
        const active = receiver("dead-letter");
        const [message] = await receiveAtLeast(active, 1);
        await active.deadLetterMessage(message as ServiceBusReceivedMessage, {
          deadLetterReason: "ImageNotFound",
          deadLetterErrorDescription: "manifest unknown",
        });
        expect(await active.peekMessages(10)).toEqual([]);
        const deadLetters = receiver("dead-letter", { subQueueType: "deadLetter" });
        const [peeked] = await deadLetters.peekMessages(10);
        expect(peeked).toMatchObject({ body: "poison", deadLetterReason: "ImageNotFound" });
        const [dead] = await receiveAtLeast(deadLetters, 1);
        expect(dead).toMatchObject({
          body: "poison",
          messageId: "poison-1",
          deadLetterReason: "ImageNotFound",
          deadLetterErrorDescription: "manifest unknown",
          applicationProperties: { registry: "docker.io" },
        });
        expect(dead?.sequenceNumber?.toNumber()).toBe(message?.sequenceNumber?.toNumber());
        await deadLetters.completeMessage(dead as ServiceBusReceivedMessage);
        expect(await deadLetters.peekMessages(10)).toEqual([]);
        // A dead letter cannot be dead-lettered again: refused, and it stays where it is.
        await send("dead-letter", { body: "twice" });
        const [again] = await receiveAtLeast(active, 1);
        await active.deadLetterMessage(again as ServiceBusReceivedMessage, {
          deadLetterReason: "first",
          deadLetterErrorDescription: "",
        });
        const [deadAgain] = await receiveAtLeast(deadLetters, 1);
        await errorOf(
          deadLetters.deadLetterMessage(deadAgain as ServiceBusReceivedMessage, {
            deadLetterReason: "second",
            deadLetterErrorDescription: "not allowed",
          }),
        );
        const stillThere = await deadLetters.peekMessages(10, {
          fromSequenceNumber: deadAgain?.sequenceNumber,
        });
        expect(stillThere.map((m) => [m.body, m.deadLetterReason])).toEqual([["twice", "first"]]);
      });

      it("defers a message, peeks it as deferred, receives it by sequence number and completes it", async () => {
        await send("defer", { body: "later please" });
        const peekLock = receiver("defer");
        const [message] = await receiveAtLeast(peekLock, 1);
        await peekLock.deferMessage(message as ServiceBusReceivedMessage);
        expect(await peekLock.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
        const [peeked] = await peekLock.peekMessages(1);
        expect(peeked?.state).toBe("deferred");
        const sequenceNumber = message?.sequenceNumber;
        const [deferred] = await peekLock.receiveDeferredMessages(
          sequenceNumber as NonNullable<typeof sequenceNumber>,
        );
        expect(deferred?.body).toBe("later please");
        expect(deferred?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
        await peekLock.completeMessage(deferred as ServiceBusReceivedMessage);
        expect(await peekLock.peekMessages(1)).toEqual([]);
      });

      it("redelivers when the lock expires, and refuses the stale lock with MessageLockLost", async () => {
        await send("lock-expiry", { body: "slow" });
        const peekLock = receiver("lock-expiry");
        const [first] = await receiveAtLeast(peekLock, 1);
        await sleep(target.lockMs + 500);
        const [second] = await receiveAtLeast(peekLock, 1, target.lockMs * 2);
        expect(second?.body).toBe("slow");
        expect(second?.deliveryCount).toBe(1);
        expect(codeOf(await errorOf(peekLock.completeMessage(first as ServiceBusReceivedMessage)))).toBe(
          "MessageLockLost",
        );
        await peekLock.completeMessage(second as ServiceBusReceivedMessage);
      });

      it("renews a lock so the message can still be completed after its first lock would have expired", async () => {
        await send("renew-lock", { body: "long scan" });
        const peekLock = receiver("renew-lock");
        const [message] = await receiveAtLeast(peekLock, 1);
        const firstUntil = message?.lockedUntilUtc?.getTime() ?? 0;
        await sleep(target.lockMs * 0.6);
        const renewed = await peekLock.renewMessageLock(message as ServiceBusReceivedMessage);
        expect(renewed.getTime()).toBeGreaterThan(firstUntil);
        await sleep(target.lockMs * 0.6);
        await peekLock.completeMessage(message as ServiceBusReceivedMessage);
        expect(await peekLock.peekMessages(1)).toEqual([]);
      });

      it("dead-letters with MaxDeliveryCountExceeded once the delivery count reaches MaxDeliveryCount", async () => {
        await send("max-delivery", { body: "flaky" });
        const peekLock = receiver("max-delivery");
        for (let attempt = 0; attempt < 2; attempt++) {
          const [message] = await receiveAtLeast(peekLock, 1);
          expect(message?.deliveryCount).toBe(attempt);
          await peekLock.abandonMessage(message as ServiceBusReceivedMessage);
        }
        expect(await peekLock.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
        const [dead] = await receiveAtLeast(receiver("max-delivery", { subQueueType: "deadLetter" }), 1);
        expect(dead).toMatchObject({
          body: "flaky",
          deadLetterReason: "MaxDeliveryCountExceeded",
          deliveryCount: 2,
        });
        expect(dead?.deadLetterErrorDescription).toMatch(/2 delivery attempts/);
      });

      it("dead-letters expired messages with TTLExpiredException when DeadLetteringOnMessageExpiration is on", async () => {
        await send("ttl-dead-letter", { body: "stale", timeToLive: 1000 });
        await sleep(1500);
        expect(await receiver("ttl-dead-letter").receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
        const [dead] = await receiveAtLeast(receiver("ttl-dead-letter", { subQueueType: "deadLetter" }), 1);
        expect(dead).toMatchObject({
          body: "stale",
          deadLetterReason: "TTLExpiredException",
          deadLetterErrorDescription: "The message expired and was dead lettered.",
        });
      });

      it("drops expired messages when DeadLetteringOnMessageExpiration is off", async () => {
        await send("ttl-drop", { body: "stale", timeToLive: 1000 }, { body: "fresh" });
        await sleep(1500);
        const messages = await receiveAtLeast(receiver("ttl-drop", { receiveMode: "receiveAndDelete" }), 1);
        expect(messages.map((m) => m.body)).toEqual(["fresh"]);
        const deadLetters = receiver("ttl-drop", { subQueueType: "deadLetter" });
        expect(await deadLetters.peekMessages(10)).toEqual([]);
      });

      it("drops a repeated messageId inside the duplicate-detection window and accepts it after", async () => {
        await send(
          "dedup",
          { body: "first", messageId: "same" },
          { body: "repeat", messageId: "same" },
          { body: "other", messageId: "different" },
        );
        const deleting = receiver("dedup", { receiveMode: "receiveAndDelete" });
        const messages = await receiveAtLeast(deleting, 2);
        expect(await deleting.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
        expect(messages.map((m) => m.body)).toEqual(["first", "other"]);
        await sleep(target.duplicateWindowMs + 500);
        await send("dedup", { body: "after the window", messageId: "same" });
        const [late] = await receiveAtLeast(deleting, 1);
        expect(late?.body).toBe("after the window");
      });

      it("holds scheduled messages until their time, shows them as scheduled, and never delivers cancelled ones", async () => {
        const sender = client.createSender("schedule");
        const at = new Date(Date.now() + 1500);
        const [kept] = await sender.scheduleMessages({ body: "scheduled" }, at);
        const [cancelled] = await sender.scheduleMessages({ body: "cancelled" }, at);
        await sender.sendMessages({ body: "via annotation", scheduledEnqueueTimeUtc: at });
        await sender.cancelScheduledMessages(cancelled as NonNullable<typeof cancelled>);
        await sender.close();
        const peekLock = receiver("schedule");
        const peeked = await peekLock.peekMessages(10, { fromSequenceNumber: kept });
        expect(peeked.map((m) => [m.body, m.state])).toEqual([
          ["scheduled", "scheduled"],
          ["via annotation", "scheduled"],
        ]);
        expect(peeked[0]?.sequenceNumber?.toNumber()).toBe(kept?.toNumber());
        expect(await peekLock.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
        const messages = await receiveAtLeast(peekLock, 2, 5000);
        expect(messages.map((m) => m.body).sort()).toEqual(["scheduled", "via annotation"]);
        for (const message of messages) {
          expect(message.enqueuedTimeUtc?.getTime()).toBeGreaterThanOrEqual(at.getTime() - 1000);
          await peekLock.completeMessage(message);
        }
        expect(await peekLock.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
      });

      it("peeks from a sequence number and continues where the previous peek stopped", async () => {
        await send("peek", ...["p0", "p1", "p2", "p3", "p4"].map((body) => ({ body })));
        const peeking = receiver("peek");
        const first = await peeking.peekMessages(2);
        const next = await peeking.peekMessages(2);
        expect([...first, ...next].map((m) => m.body)).toEqual(["p0", "p1", "p2", "p3"]);
        const from = next[1]?.sequenceNumber;
        const tail = await peeking.peekMessages(10, { fromSequenceNumber: from });
        expect(tail.map((m) => m.body)).toEqual(["p3", "p4"]);
        const [locked] = await receiveAtLeast(peeking, 1);
        const again = await peeking.peekMessages(5, { fromSequenceNumber: first[0]?.sequenceNumber });
        expect(again.map((m) => m.body)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
        expect(again[0]?.lockedUntilUtc?.getTime()).toBe(locked?.lockedUntilUtc?.getTime());
      });

      it("returns from receiveMessages when the wait ends: what is there, or nothing from an empty queue", async () => {
        const peekLock = receiver("drain");
        expect(await peekLock.receiveMessages(5, { maxWaitTimeInMs: 300 })).toEqual([]);
        await send("drain", { body: "one" }, { body: "two" });
        const some = await receiveAtLeast(peekLock, 2);
        expect(some.map((m) => m.body)).toEqual(["one", "two"]);
        expect(await peekLock.receiveMessages(5, { maxWaitTimeInMs: 300 })).toEqual([]);
        for (const message of some) await peekLock.completeMessage(message);
      });

      it("streams messages to subscribe() handlers and completes them when the handler returns", async () => {
        const streaming = receiver("stream");
        const seen: unknown[] = [];
        const errors: Error[] = [];
        const subscription = streaming.subscribe(
          {
            processMessage: async (message) => {
              seen.push(message.body);
            },
            processError: async (args) => {
              errors.push(args.error);
            },
          },
          { maxConcurrentCalls: 2 },
        );
        await send("stream", { body: "s1" }, { body: "s2" }, { body: "s3" });
        await waitFor(() => seen.length >= 3, "three streamed messages", 5000).catch(() => undefined);
        await subscription.close();
        expect([...seen].sort()).toEqual(["s1", "s2", "s3"]);
        expect(errors).toEqual([]);
        // The last completions may still be on their way when the subscription closes.
        await waitFor(() => streaming.peekMessages(10), "every streamed message completed", {
          until: (left) => left.length === 0,
          timeoutMs: 5000,
        });
      });

      it("hands each message to exactly one of 16 concurrent receivers", async () => {
        const bodies = Array.from({ length: 64 }, (_, n) => `m${n}`);
        const sender = client.createSender("concurrent");
        await sender.sendMessages(bodies.map((body) => ({ body })));
        await sender.close();
        const received: string[] = [];
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            const peekLock = receiver("concurrent");
            for (;;) {
              const messages = await peekLock.receiveMessages(4, { maxWaitTimeInMs: 500 });
              if (messages.length === 0) return;
              for (const message of messages) {
                received.push(message.body as string);
                await peekLock.completeMessage(message);
              }
            }
          }),
        );
        expect(received.sort()).toEqual([...bodies].sort());
      });

      it("fails with MessagingEntityNotFound for an unknown queue, for senders and receivers alike", async () => {
        const sender = client.createSender("no-such-queue");
        expect(codeOf(await errorOf(sender.sendMessages({ body: "x" })))).toBe("MessagingEntityNotFound");
        await sender.close();
        const missing = receiver("no-such-queue");
        expect(codeOf(await errorOf(missing.receiveMessages(1, { maxWaitTimeInMs: 500 })))).toBe(
          "MessagingEntityNotFound",
        );
      });

      describe("the topic (its tests share it)", { concurrent: false }, () => {
        it("fans topic messages out to every subscription whose rules match", async () => {
          await send(
            "events",
            { body: "completed", subject: "ScanCompleted" },
            { body: "ghcr", subject: "Other", applicationProperties: { registry: "ghcr.io" } },
            { body: "plain" },
          );
          const bodiesOf = async (subscription: string, count: number) => {
            const deleting = client.createReceiver("events", subscription, {
              receiveMode: "receiveAndDelete",
            });
            receivers.push(deleting);
            const messages = await receiveAtLeast(deleting, count, 3000);
            return messages.map((m) => m.body);
          };
          expect(await bodiesOf("all", 3)).toEqual(["completed", "ghcr", "plain"]);
          expect(await bodiesOf("by-subject", 1)).toEqual(["completed"]);
          expect(await bodiesOf("by-property", 1)).toEqual(["ghcr"]);
          const nothing = client.createReceiver("events", "nothing");
          receivers.push(nothing);
          expect(await nothing.peekMessages(10)).toEqual([]);
        });

        it("dead-letters into a subscription's own dead-letter queue", async () => {
          await send("events", { body: "bad record", subject: "ScanCompleted" });
          const subscription = client.createReceiver("events", "by-subject", {
            maxAutoLockRenewalDurationInMs: 0,
          });
          receivers.push(subscription);
          const [message] = await receiveAtLeast(subscription, 1);
          await subscription.deadLetterMessage(message as ServiceBusReceivedMessage, {
            deadLetterReason: "InvalidMessage",
            deadLetterErrorDescription: "not a ScanCompleted",
          });
          const deadLetters = client.createReceiver("events", "by-subject", { subQueueType: "deadLetter" });
          receivers.push(deadLetters);
          const [dead] = await receiveAtLeast(deadLetters, 1);
          expect(dead).toMatchObject({
            body: "bad record",
            deadLetterReason: "InvalidMessage",
            deadLetterErrorDescription: "not a ScanCompleted",
          });
          await deadLetters.completeMessage(dead as ServiceBusReceivedMessage);
          const all = client.createReceiver("events", "all", { receiveMode: "receiveAndDelete" });
          receivers.push(all);
          expect((await receiveAtLeast(all, 1)).map((m) => m.body)).toEqual(["bad record"]);
        });
      });
    },
  );
}
