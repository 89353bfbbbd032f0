// Event Hubs emulator + Azurite harness: producers, the ingest consumer, and checkpoint inspection.
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import type { Logger } from "@qcs/shared";
import { createConsumerClients } from "../../src/adapters/eventHubs/consumerClient.ts";
import { EventHubIngest } from "../../src/adapters/eventHubs/eventHubIngest.ts";
import type { BatchResult } from "../../src/core/batchProcessor.ts";
import type { AttemptMemory, GivenUpEvent } from "../../src/core/replay.ts";

export const HUB = "activity-log";
export const GROUP = "ingest";

/** Sends each body as one event to the given partition. */
export async function sendEvents(
  connectionString: string,
  partitionId: string,
  bodies: unknown[],
): Promise<void> {
  const producer = new EventHubProducerClient(connectionString, HUB);
  try {
    const batch = await producer.createBatch({ partitionId });
    for (const body of bodies) {
      const added =
        body instanceof Uint8Array
          ? batch.tryAdd({ body, contentType: "application/octet-stream" })
          : batch.tryAdd({ body, contentType: "application/json" });
      if (!added) throw new Error("test events do not fit in one batch");
    }
    await producer.sendBatch(batch);
  } finally {
    await producer.close();
  }
}

export interface IngestHarness {
  ingest: EventHubIngest;
  results: BatchResult[];
  /** Attempts at a batch that threw. */
  failures: number;
  givenUp: GivenUpEvent[];
  /** Sequence number checkpointed per partition. */
  checkpoints(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startConsumer(options: {
  eventHubsConnectionString: string;
  storageConnectionString: string;
  container: string;
  process: (bodies: unknown[], signal: AbortSignal, memory: AttemptMemory) => Promise<BatchResult>;
  logger: Logger;
  /** Default: never give up. */
  giveUpAfterMs?: number;
}): Promise<IngestHarness> {
  const { consumer, checkpoints } = createConsumerClients({
    eventHubs: { kind: "connectionString", connectionString: options.eventHubsConnectionString },
    eventHubName: HUB,
    consumerGroup: GROUP,
    storage: { kind: "connectionString", connectionString: options.storageConnectionString },
    checkpointContainer: options.container,
    credential: () => {
      throw new Error("connection strings only");
    },
    loadBalancing: { updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 5000 },
  });
  await checkpoints.createIfNotExists();
  const results: BatchResult[] = [];
  const givenUp: GivenUpEvent[] = [];
  let failures = 0;
  const ingest = new EventHubIngest({
    client: consumer,
    process: options.process,
    onBatch: (result) => results.push(result),
    onBatchFailed: () => {
      failures += 1;
    },
    onGiveUp: (events) => givenUp.push(...events),
    giveUpAfterMs: options.giveUpAfterMs ?? 0,
    logger: options.logger,
    maxBatchSize: 50,
    maxWaitTimeInSeconds: 1,
    retry: { initialMs: 100, maxMs: 400 },
  });
  ingest.start();
  const store = new BlobCheckpointStore(checkpoints);
  return {
    ingest,
    results,
    get failures() {
      return failures;
    },
    givenUp,
    checkpoints: async () => {
      const list = await store.listCheckpoints(consumer.fullyQualifiedNamespace, HUB, GROUP);
      return Object.fromEntries(list.map((c) => [c.partitionId, c.sequenceNumber]));
    },
    close: async () => {
      ingest.stopIntake();
      await ingest.drain(AbortSignal.timeout(10_000));
      await ingest.close();
      await consumer.close();
    },
  };
}
