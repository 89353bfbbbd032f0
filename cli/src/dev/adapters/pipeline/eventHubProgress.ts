/**
 * How far ingest has got through the hub: each partition's last sequence number against the
 * checkpoint ingest keeps in Blob storage (the same comparison KEDA's Event Hubs scaler makes).
 */
import type { EventHubProducerClient } from "@azure/event-hubs";
import type { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import type { PartitionProgress } from "../../core/completion.ts";

export class EventHubProgress {
  readonly #producer: EventHubProducerClient;
  readonly #checkpoints: BlobCheckpointStore;
  readonly #consumerGroup: string;

  constructor(producer: EventHubProducerClient, checkpoints: BlobCheckpointStore, consumerGroup: string) {
    this.#producer = producer;
    this.#checkpoints = checkpoints;
    this.#consumerGroup = consumerGroup;
  }

  async partitions(): Promise<PartitionProgress[]> {
    const ids = await this.#producer.getPartitionIds();
    const [properties, checkpoints] = await Promise.all([
      Promise.all(ids.map((id) => this.#producer.getPartitionProperties(id))),
      this.#checkpoints.listCheckpoints(
        this.#producer.fullyQualifiedNamespace,
        this.#producer.eventHubName,
        this.#consumerGroup,
      ),
    ]);
    return properties.map((partition) => ({
      partitionId: partition.partitionId,
      lastSequenceNumber: partition.isEmpty ? -1 : partition.lastEnqueuedSequenceNumber,
      checkpointSequenceNumber: checkpoints.find(
        (checkpoint) => checkpoint.partitionId === partition.partitionId,
      )?.sequenceNumber,
    }));
  }
}
