import { z } from "zod";
import {
  armConnection,
  armEnv,
  commonConfig,
  commonEnv,
  entityVar,
  eventHubsEnv,
  exclusionEnv,
  exclusionsOf,
  intVar,
  messagingConnection,
  serviceBusEnv,
  storageConnection,
  storageEnv,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";

export const ingestConfigSpec = defineServiceConfig({
  service: "ingest",
  env: z.object({
    ...commonEnv,
    ...eventHubsEnv,
    ...serviceBusEnv,
    ...storageEnv,
    EVENTHUB_NAME: entityVar("EVENTHUB_NAME"),
    EVENTHUB_CONSUMER_GROUP: entityVar("EVENTHUB_CONSUMER_GROUP"),
    CHECKPOINT_CONTAINER: entityVar("CHECKPOINT_CONTAINER"),
    SCAN_REQUESTS_QUEUE: entityVar("SCAN_REQUESTS_QUEUE"),
    WORKLOADS_TABLE: entityVar("WORKLOADS_TABLE"),
    ...armEnv,
    /** Seconds one resource lookup may take, the SDK's retries of 429 and 5xx included. */
    ARM_TIMEOUT_SECONDS: intVar(30, 1, 600),
    /** Seconds a lookup answer is reused for further events of the same write (same correlation ID). */
    ARM_CACHE_SECONDS: intVar(300, 0, 86_400),
    /** Resource lookups in flight at once for one batch. */
    ARM_CONCURRENCY: intVar(8, 1, 64),
    /** Most events handed to one batch, per partition. */
    INGEST_BATCH_SIZE: intVar(100, 1, 5000),
    ...exclusionEnv,
    /** Seconds during which a repeat of an image already requested is collapsed in memory. */
    INGEST_DEDUP_WINDOW_SECONDS: intVar(300, 0, 86_400),
    /** Seconds an event may keep failing (lookup or processing) before it is logged, counted and checkpointed past; 0: never. */
    INGEST_RETRY_GIVE_UP_SECONDS: intVar(1800, 0, 604_800),
    /**
     * Seconds an instance's claim on a partition lasts unless renewed (every sixth of it): how long
     * the partitions of a crashed instance wait for another. The Event Hubs SDK's default.
     */
    INGEST_PARTITION_OWNERSHIP_SECONDS: intVar(60, 6, 3600),
  }),
  secrets: [
    "EVENTHUBS_CONNECTION_STRING",
    "SERVICEBUS_CONNECTION_STRING",
    "STORAGE_CONNECTION_STRING",
    "ARM_TOKEN",
  ],
  build: (env, issue) => ({
    ...commonConfig(env),
    eventHubs: messagingConnection(
      "EVENTHUBS",
      env.EVENTHUBS_CONNECTION_STRING,
      env.EVENTHUBS_NAMESPACE,
      issue,
    ),
    serviceBus: messagingConnection(
      "SERVICEBUS",
      env.SERVICEBUS_CONNECTION_STRING,
      env.SERVICEBUS_NAMESPACE,
      issue,
    ),
    storage: storageConnection(env.STORAGE_CONNECTION_STRING, env.STORAGE_ACCOUNT_NAME, issue),
    eventHubName: env.EVENTHUB_NAME,
    consumerGroup: env.EVENTHUB_CONSUMER_GROUP,
    checkpointContainer: env.CHECKPOINT_CONTAINER,
    scanRequestsQueue: env.SCAN_REQUESTS_QUEUE,
    workloadsTable: env.WORKLOADS_TABLE,
    arm: {
      ...armConnection(env),
      timeoutMs: env.ARM_TIMEOUT_SECONDS * 1000,
      cacheMs: env.ARM_CACHE_SECONDS * 1000,
      concurrency: env.ARM_CONCURRENCY,
    },
    batchSize: env.INGEST_BATCH_SIZE,
    exclusions: exclusionsOf(env),
    dedupWindowMs: env.INGEST_DEDUP_WINDOW_SECONDS * 1000,
    retryGiveUpMs: env.INGEST_RETRY_GIVE_UP_SECONDS * 1000,
    partitionOwnershipMs: env.INGEST_PARTITION_OWNERSHIP_SECONDS * 1000,
  }),
});
export type IngestConfig = ReturnType<typeof ingestConfigSpec.build>;
