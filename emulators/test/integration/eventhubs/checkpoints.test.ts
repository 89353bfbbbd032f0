/**
 * Event processors with checkpoints in Blob storage, as services/ingest runs them:
 * EventHubConsumerClient + BlobCheckpointStore (@azure/eventhubs-checkpointstore-blob) on Azurite
 * from npm, against each conformance target. Load balancing runs on short intervals (client
 * options), so ownership settles in seconds.
 */
import {
  type CheckpointStore,
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type ReceivedEventData,
  type Subscription,
} from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { ContainerClient } from "@azure/storage-blob";
import { waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAzurite } from "../../../src/azurite/azurite.ts";
import { type EventHubsTarget, targets } from "../../support/eventhubs/targets.ts";

const loadBalancingOptions = {
  strategy: "balanced" as const,
  updateIntervalInMs: 250,
  partitionOwnershipExpirationIntervalInMs: 2_500,
};

/** One processor: an EventHubConsumerClient subscribed to every partition through the checkpoint store. */
class Processor {
  readonly owned = new Set<string>();
  readonly events: Array<{ partitionId: string; body: unknown }> = [];
  /** Per partition: receive waits that ended with no events (everything available was delivered). */
  readonly idleCalls = new Map<string, number>();
  readonly errors: Error[] = [];
  readonly #client: EventHubConsumerClient;
  readonly #subscription: Subscription;

  constructor(connectionString: string, hub: string, store: CheckpointStore, checkpoint: boolean) {
    this.#client = new EventHubConsumerClient("ingest", connectionString, hub, store, {
      loadBalancingOptions,
    });
    this.#subscription = this.#client.subscribe(
      {
        processInitialize: async (context) => {
          this.owned.add(context.partitionId);
        },
        processClose: async (_, context) => {
          this.owned.delete(context.partitionId);
        },
        processEvents: async (events: ReceivedEventData[], context) => {
          const last = events.at(-1);
          // Checkpoint first: an event counts as processed only once its checkpoint is stored.
          if (checkpoint && last) await context.updateCheckpoint(last);
          for (const event of events)
            this.events.push({ partitionId: context.partitionId, body: event.body });
          if (!last)
            this.idleCalls.set(context.partitionId, (this.idleCalls.get(context.partitionId) ?? 0) + 1);
        },
        processError: async (error) => {
          this.errors.push(error);
        },
      },
      { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1, maxBatchSize: 10 },
    );
  }

  async close(): Promise<void> {
    await this.#subscription.close();
    await this.#client.close();
  }
}

for (const definition of targets) {
  const reason = await definition.unavailable();
  describe.skipIf(reason !== undefined)(
    `checkpoints in Blob storage: ${definition.name}${reason ? ` (skipped: ${reason})` : ""}`,
    () => {
      let target: EventHubsTarget;
      let azurite: RunningAzurite;
      const processors: Processor[] = [];
      const producers: EventHubProducerClient[] = [];

      beforeAll(async () => {
        [target, azurite] = await Promise.all([definition.start(), sharedAzurite()]);
      }, 240_000);
      afterAll(async () => {
        await Promise.allSettled([...processors, ...producers].map((client) => client.close()));
        await Promise.allSettled([target?.close(), azurite?.stop()]);
      });

      async function checkpointStore(container: string): Promise<CheckpointStore> {
        const client = new ContainerClient(azurite.connectionString, container);
        await client.create();
        return new BlobCheckpointStore(client);
      }
      const processor = (hub: string, store: CheckpointStore, checkpoint = true) => {
        const started = new Processor(target.connectionString, hub, store, checkpoint);
        processors.push(started);
        return started;
      };
      const producer = (hub: string) => {
        const client = new EventHubProducerClient(target.connectionString, hub);
        producers.push(client);
        return client;
      };

      it("balances 4 partitions between two consumers, and each event after that is processed once", async () => {
        const store = await checkpointStore("balance");
        const first = processor("balance", store);
        await waitFor(() => first.owned.size === 4, "the first consumer to own all 4 partitions");
        const second = processor("balance", store);
        await waitFor(
          () => first.owned.size === 2 && second.owned.size === 2,
          "the consumers to own 2 partitions each",
          30_000,
        );
        expect(new Set([...first.owned, ...second.owned])).toEqual(new Set(["0", "1", "2", "3"]));

        const client = producer("balance");
        const sent = ["0", "1", "2", "3"].map((partitionId) => `after-balance-${partitionId}`);
        await Promise.all(
          sent.map((body, partitionId) => client.sendBatch([{ body }], { partitionId: String(partitionId) })),
        );
        const processed = () => [...first.events, ...second.events].map((event) => event.body);
        await waitFor(
          () => sent.every((body) => processed().includes(body)),
          "the events sent after balancing",
        );
        expect(
          processed()
            .filter((body) => sent.includes(body as string))
            .sort(),
        ).toEqual(sent);
      }, 60_000);

      it("resumes a restarted consumer after its last checkpoint, without losing or re-reading events", async () => {
        const store = await checkpointStore("resume");
        const client = producer("resume");
        const firstRun = Array.from({ length: 10 }, (_, i) => `first-${i}`);
        await client.sendBatch(
          firstRun.slice(0, 5).map((body) => ({ body })),
          { partitionId: "0" },
        );
        await client.sendBatch(
          firstRun.slice(5).map((body) => ({ body })),
          { partitionId: "1" },
        );

        const before = processor("resume", store);
        await waitFor(() => before.events.length >= firstRun.length, "the first run's events");
        await before.close();
        expect(before.events.map((event) => event.body).sort()).toEqual([...firstRun].sort());

        const secondRun = ["second-0", "second-1", "second-2"];
        await client.sendBatch(
          secondRun.slice(0, 2).map((body) => ({ body })),
          { partitionId: "0" },
        );
        await client.sendBatch(
          secondRun.slice(2).map((body) => ({ body })),
          { partitionId: "1" },
        );

        const after = processor("resume", store);
        await waitFor(() => after.events.length >= secondRun.length, "the second run's events");
        // Once each partition has waited a receive without events, nothing more is coming.
        const idle = ["0", "1"].map((id) => after.idleCalls.get(id) ?? 0);
        await waitFor(
          () => ["0", "1"].every((id, index) => (after.idleCalls.get(id) ?? 0) > (idle[index] ?? 0)),
          "both partitions to be drained",
        );
        expect(after.events.map((event) => event.body).sort()).toEqual(secondRun);
        expect(after.errors).toEqual([]);
      }, 60_000);
    },
  );
}
