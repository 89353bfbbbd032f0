/**
 * The Event Hubs consumer and its Blob checkpoint store (`@azure/eventhubs-checkpointstore-blob`,
 * the layout KEDA's `azure-eventhub` scaler reads with `checkpointStrategy: blobMetadata`).
 * A connection string locally, a namespace and managed identity in Azure. Called from main.ts
 * (and tests) only.
 */
import type { TokenCredential } from "@azure/core-auth";
import { EventHubConsumerClient, type LoadBalancingOptions } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { Connection, StorageConnection } from "@qcs/shared";

export interface ConsumerClientOptions {
  eventHubs: Connection;
  eventHubName: string;
  consumerGroup: string;
  storage: StorageConnection;
  checkpointContainer: string;
  /** For managed identity; unused with connection strings. */
  credential: () => TokenCredential;
  /**
   * Default: greedy (claim every free partition at once, so a replica that starts after another
   * stopped resumes all partitions in its first cycle), 10 s cycle, 60 s ownership expiry.
   */
  loadBalancing?: LoadBalancingOptions;
}

export interface ConsumerClients {
  consumer: EventHubConsumerClient;
  checkpoints: ContainerClient;
}

export function createConsumerClients(options: ConsumerClientOptions): ConsumerClients {
  const checkpoints =
    options.storage.kind === "connectionString"
      ? BlobServiceClient.fromConnectionString(options.storage.connectionString).getContainerClient(
          options.checkpointContainer,
        )
      : new BlobServiceClient(options.storage.blobUrl, options.credential()).getContainerClient(
          options.checkpointContainer,
        );
  const store = new BlobCheckpointStore(checkpoints);
  const clientOptions = { loadBalancingOptions: { strategy: "greedy" as const, ...options.loadBalancing } };
  const consumer =
    options.eventHubs.kind === "connectionString"
      ? new EventHubConsumerClient(
          options.consumerGroup,
          options.eventHubs.connectionString,
          options.eventHubName,
          store,
          clientOptions,
        )
      : new EventHubConsumerClient(
          options.consumerGroup,
          options.eventHubs.fullyQualifiedNamespace,
          options.eventHubName,
          options.credential(),
          store,
          clientOptions,
        );
  return { consumer, checkpoints };
}
