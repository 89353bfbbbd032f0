/**
 * Event Hubs conformance over real sockets with the official SDK only (@azure/event-hubs), run
 * against each target of `conformance/targets.ts`: the project's emulator here, Microsoft's emulator
 * too when a Docker engine answers. One hub per behaviour; see also `checkpoints.test.ts`.
 */
import { connect } from "node:net";
import {
  EventHubBufferedProducerClient,
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
  type MessagingError,
} from "@azure/event-hubs";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodies, readPartition } from "../../support/eventhubs/harness.ts";
import { type EventHubsTarget, targets } from "../../support/eventhubs/targets.ts";

for (const definition of targets) {
  const reason = await definition.unavailable();
  describe.skipIf(reason !== undefined)(`${definition.name}${reason ? ` (skipped: ${reason})` : ""}`, () => {
    let target: EventHubsTarget;
    const clients: Array<{ close(): Promise<void> }> = [];
    const producer = (hub: string) => {
      const client = new EventHubProducerClient(target.connectionString, hub);
      clients.push(client);
      return client;
    };
    const consumer = (hub: string, group = "$Default") => {
      const client = new EventHubConsumerClient(group, target.connectionString, hub);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      target = await definition.start();
    }, 240_000);
    afterAll(async () => {
      await Promise.allSettled(clients.map((client) => client.close()));
      await target?.close();
    });

    describe("management", () => {
      it("reads the hub's properties: name, creation time and partition ids", async () => {
        const properties = await producer("properties").getEventHubProperties();
        expect(properties.name).toBe("properties");
        expect(properties.partitionIds).toEqual(["0", "1", "2", "3"]);
        expect(properties.createdOn).toBeInstanceOf(Date);
        expect(properties.createdOn.getTime()).toBeGreaterThan(0);
      });

      it("reads an empty partition as empty, with -1 positions", async () => {
        expect(await producer("properties").getPartitionProperties("3")).toMatchObject({
          eventHubName: "properties",
          partitionId: "3",
          isEmpty: true,
          lastEnqueuedSequenceNumber: -1,
          lastEnqueuedOffset: "-1",
        });
      });

      it("reads a partition with events: first and last sequence number, offset and time", async () => {
        const client = producer("properties");
        const before = Date.now();
        await client.sendBatch([{ body: "a" }, { body: "b" }], { partitionId: "1" });
        const properties = await client.getPartitionProperties("1");
        expect(properties).toMatchObject({
          partitionId: "1",
          isEmpty: false,
          beginningSequenceNumber: 0,
          lastEnqueuedSequenceNumber: 1,
        });
        expect(Number(properties.lastEnqueuedOffset)).toBeGreaterThan(0);
        expect(properties.lastEnqueuedOnUtc.getTime()).toBeGreaterThanOrEqual(before - 5_000);
      });

      it("refuses a partition id the hub does not have with ArgumentOutOfRangeError", async () => {
        await expect(producer("properties").getPartitionProperties("4")).rejects.toMatchObject({
          code: "ArgumentOutOfRangeError",
        });
      });

      it("answers an unknown hub with MessagingEntityNotFoundError, for management and for sends", async () => {
        const client = producer("no-such-hub");
        await expect(client.getEventHubProperties()).rejects.toMatchObject({
          code: "MessagingEntityNotFoundError",
        });
        await expect(client.sendBatch([{ body: "x" }])).rejects.toMatchObject({
          code: "MessagingEntityNotFoundError",
        });
      });
    });

    describe("publishing", () => {
      it("spreads events sent to the hub over its partitions", async () => {
        const client = producer("routing");
        for (let i = 0; i < 8; i += 1) await client.sendBatch([{ body: `spread-${i}` }]);
        const counts = await Promise.all(
          ["0", "1", "2", "3"].map(async (id) => {
            const info = await client.getPartitionProperties(id);
            return info.isEmpty ? 0 : info.lastEnqueuedSequenceNumber - info.beginningSequenceNumber + 1;
          }),
        );
        expect(counts.reduce((sum, count) => sum + count, 0)).toBe(8);
        expect(counts.filter((count) => count > 0).length).toBeGreaterThan(1);
      });

      it("keeps events with one partition key together, on the partition the SDK's own hashing predicts", async () => {
        const client = producer("routing");
        const keys = ["tenant-a", "tenant-b", "tenant-c", "tenant-d", "tenant-e"];
        const ids = ["0", "1", "2", "3"];
        const lastSequenceNumbers = () =>
          Promise.all(
            ids.map(async (id) => (await client.getPartitionProperties(id)).lastEnqueuedSequenceNumber),
          );
        const landed = new Map<string, string>();
        for (const key of keys) {
          const before = await lastSequenceNumbers();
          await client.sendBatch([{ body: key }, { body: key }], { partitionKey: key });
          const after = await lastSequenceNumbers();
          const grown = ids.filter((_, index) => after[index] !== before[index]);
          expect(grown).toHaveLength(1);
          const index = Number(grown[0]);
          expect((after[index] ?? 0) - (before[index] ?? 0)).toBe(2);
          landed.set(key, String(index));
        }

        // EventHubBufferedProducerClient assigns partitions for keys on the client side.
        const predicted = new Map<string, string>();
        const buffered = new EventHubBufferedProducerClient(target.connectionString, "routing", {
          onSendEventsErrorHandler: async () => {},
          onSendEventsSuccessHandler: async ({ partitionId, events }) => {
            for (const event of events) predicted.set(String(event.body), partitionId);
          },
          maxWaitTimeInMs: 50,
        });
        clients.push(buffered);
        for (const key of keys) await buffered.enqueueEvent({ body: key }, { partitionKey: key });
        await buffered.flush();
        expect(predicted).toEqual(landed);
      });

      it("sends to the partition named", async () => {
        const client = producer("routing");
        const before = await client.getPartitionProperties("2");
        await client.sendBatch([{ body: "to-2" }], { partitionId: "2" });
        expect((await client.getPartitionProperties("2")).lastEnqueuedSequenceNumber).toBe(
          before.lastEnqueuedSequenceNumber + 1,
        );
      });

      it("sizes batches at 1 MiB and rejects a larger send with MessageTooLargeError", async () => {
        const client = producer("limits");
        const batch = await client.createBatch();
        expect(batch.maxSizeInBytes).toBe(1024 * 1024);
        expect(batch.tryAdd({ body: Buffer.alloc(1024 * 1024) })).toBe(false);
        const big = Array.from({ length: 3 }, () => ({ body: Buffer.alloc(400 * 1024) }));
        await expect(client.sendBatch(big, { partitionId: "0" })).rejects.toMatchObject({
          code: "MessageTooLargeError",
        });
        const info = await client.getPartitionProperties("0");
        expect(info.isEmpty).toBe(true);
      });
    });

    // Concurrent: each test reads a hub, partition or consumer group no other test here writes
    // after the setup, and most of their time is waiting for a reader to go idle.
    describe("receiving", { concurrent: true }, () => {
      const sent: Array<{ sequenceNumber: number; offset: string; enqueuedTimeUtc: Date }> = [];

      beforeAll(async () => {
        const client = producer("positions");
        await client.sendBatch([{ body: "p0" }, { body: "p1" }], { partitionId: "0" });
        // A later enqueued time for the second half (times are in milliseconds).
        await new Promise((resolve) => setTimeout(resolve, 20));
        await client.sendBatch([{ body: "p2" }, { body: "p3" }], { partitionId: "0" });
        const reader = readPartition(consumer("positions"), "0", { startPosition: earliestEventPosition });
        const events = await reader.received(4);
        await reader.close();
        sent.push(...events);
      });

      it("starts at the earliest event and stamps sequence numbers, offsets and enqueued times", () => {
        expect(sent.map((event) => event.sequenceNumber)).toEqual([0, 1, 2, 3]);
        const offsets = sent.map((event) => Number(event.offset));
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(new Set(offsets).size).toBe(4);
        expect(sent[2]?.enqueuedTimeUtc.getTime()).toBeGreaterThan(sent[1]?.enqueuedTimeUtc.getTime() ?? 0);
      });

      it.each([
        ["an offset, exclusive", () => ({ offset: sent[1]?.offset }), ["p2", "p3"]],
        ["an offset, inclusive", () => ({ offset: sent[1]?.offset, isInclusive: true }), ["p1", "p2", "p3"]],
        ["a sequence number, exclusive", () => ({ sequenceNumber: 2 }), ["p3"]],
        ["a sequence number, inclusive", () => ({ sequenceNumber: 2, isInclusive: true }), ["p2", "p3"]],
        ["an enqueued time", () => ({ enqueuedOn: sent[1]?.enqueuedTimeUtc }), ["p2", "p3"]],
      ])("starts after %s", async (_, position, expected) => {
        const reader = readPartition(consumer("positions"), "0", { startPosition: position() as never });
        await reader.received(expected.length);
        await reader.idle();
        await reader.close();
        expect(bodies(reader.events)).toEqual(expected);
      });

      it("starts at the latest position: only events sent after the receiver attached", async () => {
        const client = producer("positions");
        await client.sendBatch([{ body: "before" }], { partitionId: "1" });
        const reader = readPartition(consumer("positions"), "1", { startPosition: latestEventPosition });
        await reader.idle();
        await client.sendBatch([{ body: "after" }], { partitionId: "1" });
        await reader.received(1);
        await reader.close();
        expect(bodies(reader.events)).toEqual(["after"]);
      });

      it("round-trips bodies (JSON object, string, binary), properties and message fields", async () => {
        const client = producer("round-trip");
        await client.sendBatch(
          [
            {
              body: { image: "docker.io/library/nginx:latest", count: 3, nested: { ok: true } },
              properties: { kind: "aci", attempt: 2, ratio: 0.5, flag: false },
              messageId: "m-1",
              contentType: "application/json",
              correlationId: "c-1",
            },
            { body: "plain text" },
            { body: new Uint8Array([0, 1, 2, 255]) },
          ],
          { partitionKey: "round-trip-key" },
        );
        const reader = readPartition(consumer("round-trip"), "0", { startPosition: earliestEventPosition });
        const [json, text, binary] = await reader.received(3);
        await reader.close();
        expect(json).toMatchObject({
          body: { image: "docker.io/library/nginx:latest", count: 3, nested: { ok: true } },
          properties: { kind: "aci", attempt: 2, ratio: 0.5, flag: false },
          messageId: "m-1",
          contentType: "application/json",
          correlationId: "c-1",
          partitionKey: "round-trip-key",
        });
        expect(text?.body).toBe("plain text");
        expect(Buffer.from(binary?.body as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]));
        expect(binary?.partitionKey).toBe("round-trip-key");
      });

      it("reports the last enqueued event's properties when the consumer tracks them", async () => {
        const client = producer("metrics");
        await client.sendBatch([{ body: "m0" }, { body: "m1" }, { body: "m2" }]);
        const last = await client.getPartitionProperties("0");
        const reader = readPartition(consumer("metrics"), "0", {
          startPosition: earliestEventPosition,
          trackLastEnqueuedEventProperties: true,
          maxBatchSize: 1,
        });
        await reader.received(1);
        await reader.close();
        expect(reader.contexts[0]?.lastEnqueuedEventProperties).toMatchObject({
          sequenceNumber: 2,
          offset: last.lastEnqueuedOffset,
          enqueuedOn: last.lastEnqueuedOnUtc,
        });
        expect(reader.contexts[0]?.lastEnqueuedEventProperties?.retrievedOn).toBeInstanceOf(Date);
      });

      it("lets consumer groups read the same events independently", async () => {
        const client = producer("groups");
        await client.sendBatch([{ body: "g0" }, { body: "g1" }], { partitionId: "0" });
        const a = readPartition(consumer("groups", "cg-a"), "0", { startPosition: earliestEventPosition });
        const b = readPartition(consumer("groups", "cg-b"), "0", { startPosition: earliestEventPosition });
        const again = readPartition(consumer("groups", "cg-a"), "0", {
          startPosition: earliestEventPosition,
        });
        await Promise.all([a.received(2), b.received(2), again.received(2)]);
        await Promise.all([a.close(), b.close(), again.close()]);
        expect([bodies(a.events), bodies(b.events), bodies(again.events)]).toEqual([
          ["g0", "g1"],
          ["g0", "g1"],
          ["g0", "g1"],
        ]);
      });

      it("answers a receiver on a partition the hub does not have with ArgumentOutOfRangeError", async () => {
        const reader = readPartition(consumer("groups"), "7", { startPosition: earliestEventPosition });
        await waitFor(() => reader.errors.length > 0, "a subscription error");
        await reader.close();
        expect((reader.errors[0] as MessagingError).code).toBe("ArgumentOutOfRangeError");
      });

      it("answers an unknown consumer group with MessagingEntityNotFoundError", async () => {
        const reader = readPartition(consumer("groups", "nobody"), "0", {
          startPosition: earliestEventPosition,
        });
        await waitFor(() => reader.errors.length > 0, "a subscription error");
        await reader.close();
        expect((reader.errors[0] as MessagingError).code).toBe("MessagingEntityNotFoundError");
      });
    });

    describe("owner level (epoch)", () => {
      it("disconnects the lower owner with ReceiverDisconnectedError and refuses later lower ones", async () => {
        const client = producer("owners");
        const first = readPartition(consumer("owners"), "0", {
          startPosition: latestEventPosition,
          ownerLevel: 1,
        });
        await first.idle();
        const second = readPartition(consumer("owners"), "0", {
          startPosition: latestEventPosition,
          ownerLevel: 2,
        });
        await second.idle();
        await waitFor(() => first.errors.length > 0, "the first owner to be disconnected");
        const late = readPartition(consumer("owners"), "0", {
          startPosition: latestEventPosition,
          ownerLevel: 1,
        });
        await waitFor(() => late.errors.length > 0, "the lower owner to be refused");
        const noLevel = readPartition(consumer("owners"), "0", { startPosition: latestEventPosition });
        await waitFor(() => noLevel.errors.length > 0, "a receiver without owner level to be refused");

        await client.sendBatch([{ body: "for-the-owner" }], { partitionId: "0" });
        await second.received(1);
        await Promise.all([first.close(), second.close(), late.close(), noLevel.close()]);
        for (const reader of [first, late, noLevel]) {
          expect((reader.errors[0] as MessagingError).code).toBe("ReceiverDisconnectedError");
          expect(reader.events).toEqual([]);
        }
        expect(bodies(second.events)).toEqual(["for-the-owner"]);
      });

      it("lets an equal owner level take over a partition", async () => {
        const first = readPartition(consumer("owners"), "1", {
          startPosition: latestEventPosition,
          ownerLevel: 5,
        });
        await first.idle();
        const second = readPartition(consumer("owners"), "1", {
          startPosition: latestEventPosition,
          ownerLevel: 5,
        });
        await second.idle();
        await waitFor(() => first.errors.length > 0, "the first owner to be disconnected");
        await Promise.all([first.close(), second.close()]);
        expect((first.errors[0] as MessagingError).code).toBe("ReceiverDisconnectedError");
        expect(second.errors).toEqual([]);
      });
    });

    describe("robustness", () => {
      const junk = (bytes: Buffer, closeAbruptly: boolean) =>
        new Promise<void>((resolve) => {
          const host = /sb:\/\/([^:;/]+)/.exec(target.connectionString)?.[1] ?? "127.0.0.1";
          const port = Number(/:(\d+);/.exec(target.connectionString)?.[1]);
          const socket = connect({ host, port }, () => {
            socket.write(bytes);
            if (closeAbruptly) socket.destroy();
          });
          socket.on("error", () => resolve());
          socket.on("close", () => resolve());
          socket.setTimeout(2_000, () => socket.destroy());
        });

      it("survives malformed frames and abrupt disconnects, and keeps serving clients", async () => {
        await junk(Buffer.from("GET / HTTP/1.1\r\n\r\n"), false);
        // A valid AMQP header followed by a frame that declares an absurd size.
        await junk(
          Buffer.concat([
            Buffer.from("AMQP\x00\x01\x00\x00", "binary"),
            Buffer.from([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0]),
          ]),
          false,
        );
        await junk(Buffer.from("AMQP\x03\x01\x00\x00", "binary"), true);
        expect((await producer("properties").getEventHubProperties()).name).toBe("properties");
      });
    });
  });
}
