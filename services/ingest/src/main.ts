#!/usr/bin/env node
/**
 * Composition root of ingest: builds the SDK clients and adapters around the core and turns Event
 * Hub events into ScanRequested messages until SIGTERM (the start-up path is shared:
 * `startService`). The only file that creates SDK clients.
 */
import { readFileSync } from "node:fs";
import { configVariables, ingestConfigSpec } from "@qcs/shared";
import {
  createServiceBusClient,
  createTableClient,
  defineService,
  type RunningService,
  type StartServiceOptions,
} from "@qcs/shared/runtime";
import packageJson from "../package.json" with { type: "json" };
import { armClientsFactory, staticTokenCredential } from "./adapters/arm/armClients.ts";
import { armLookup } from "./adapters/arm/armLookup.ts";
import { createConsumerClients } from "./adapters/eventHubs/consumerClient.ts";
import { EventHubIngest } from "./adapters/eventHubs/eventHubIngest.ts";
import { createIngestMetrics } from "./adapters/openTelemetry/ingestMetrics.ts";
import { serviceBusScanRequestSink } from "./adapters/serviceBus/scanRequestSender.ts";
import { tableWorkloadStore } from "./adapters/tables/workloadTable.ts";
import { BatchProcessor } from "./core/batchProcessor.ts";
import { compileExclusions } from "./core/exclusions.ts";
import { cachedLookup } from "./core/lookupCache.ts";
import { RecentRequests } from "./core/recentRequests.ts";

export interface StartIngestOptions extends StartServiceOptions {
  /** Tests shorten the Event Hubs load-balancing cycle and the pause before replaying unsettled events. */
  tuning?: {
    loadBalancing?: { updateIntervalInMs?: number; partitionOwnershipExpirationIntervalInMs?: number };
    replayDelay?: { initialMs: number; maxMs: number };
    maxWaitTimeInSeconds?: number;
    armRetryDelayMs?: number;
  };
}

type Tuning = NonNullable<StartIngestOptions["tuning"]>;

/** Starts ingest in this process (tests, benchmarks); shut it down with `shutdown()`. */
export function startIngest(options: StartIngestOptions = {}): Promise<RunningService> {
  return ingest(options.tuning ?? {}).start(options);
}

function ingest(tuning: Tuning) {
  return defineService({
    name: "ingest",
    version: packageJson.version,
    spec: ingestConfigSpec,
    wire: async ({ config, logger, telemetry, lifecycle, credential }) => {
      const arm = armClientsFactory({
        endpoint: config.arm.endpoint,
        credential: config.arm.staticToken ? staticTokenCredential(config.arm.staticToken) : credential(),
        ca: config.arm.caFile ? readFileSync(config.arm.caFile, "utf8") : undefined,
        retry: { maxRetries: 4, retryDelayInMs: tuning.armRetryDelayMs ?? 1000, maxRetryDelayInMs: 30_000 },
      });

      const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
      const sender = serviceBus.createSender(config.scanRequestsQueue);
      lifecycle.onClose(() => serviceBus.close());

      const { consumer, checkpoints } = createConsumerClients({
        eventHubs: config.eventHubs,
        eventHubName: config.eventHubName,
        consumerGroup: config.consumerGroup,
        storage: config.storage,
        checkpointContainer: config.checkpointContainer,
        credential,
        loadBalancing: tuning.loadBalancing ?? {
          partitionOwnershipExpirationIntervalInMs: config.partitionOwnershipMs,
          updateIntervalInMs: config.partitionOwnershipMs / 6,
        },
      });
      await checkpoints.createIfNotExists();
      lifecycle.onClose(() => consumer.close());
      const workloads = createTableClient(config.storage, config.workloadsTable, credential);
      await workloads.createTable();

      const processor = new BatchProcessor({
        lookup: cachedLookup(armLookup({ clientsFor: arm, timeoutMs: config.arm.timeoutMs }), {
          ttlMs: config.arm.cacheMs,
        }),
        sink: serviceBusScanRequestSink(sender, telemetry.tracer),
        workloads: tableWorkloadStore(workloads),
        exclusions: compileExclusions(config.exclusions),
        recent: new RecentRequests(config.dedupWindowMs),
        logger,
        lookupConcurrency: config.arm.concurrency,
      });
      const metrics = createIngestMetrics(telemetry.meter);
      const eventHubIngest = new EventHubIngest({
        client: consumer,
        process: (bodies, signal, memory) => processor.process(bodies, signal, memory),
        onBatch: metrics.batch,
        onGiveUp: metrics.givenUp,
        onBatchFailed: metrics.batchFailed,
        giveUpAfterMs: config.retryGiveUpMs,
        logger,
        maxBatchSize: config.batchSize,
        maxWaitTimeInSeconds: tuning.maxWaitTimeInSeconds,
        retry: tuning.replayDelay,
      });

      return {
        readiness: [
          { name: "eventhubs", check: () => eventHubIngest.ready() },
          // Creating a batch opens the sender's link and reads the queue's message size limit.
          { name: "servicebus", check: async () => Boolean(await sender.createMessageBatch()) },
          { name: "storage", check: () => checkpoints.exists() },
          {
            name: "workloads-table",
            check: async () =>
              !(
                await workloads
                  .listEntities({ queryOptions: { select: ["RowKey"] } })
                  .byPage({ maxPageSize: 1 })
                  .next()
              ).done,
          },
        ],
        start: () => eventHubIngest.start(),
        stopIntake: () => eventHubIngest.stopIntake(),
        drain: (deadline) => eventHubIngest.drain(deadline),
        close: () => eventHubIngest.close(),
      };
    },
  });
}

const HELP = `ingest: turns Activity Log and Event Grid events on an Event Hub into ScanRequested messages.

Usage: node services/ingest/src/main.ts

Reads the hub EVENTHUB_NAME with consumer group EVENTHUB_CONSUMER_GROUP (checkpoints in the blob
container CHECKPOINT_CONTAINER), keeps successful writes of container groups, container apps and
jobs, looks their images up in ARM and sends one request per image to SCAN_REQUESTS_QUEUE. Keeps
the WORKLOADS_TABLE table current: upserts what a write's lookup found, removes what a delete names.
The periodic full listing is a separate entry point: node services/ingest/src/sweep.ts --help.

Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(ingestConfigSpec).join("\n  ")}

HTTP: GET /healthz, /readyz (Event Hubs, Service Bus, Storage, the Workloads table), /metrics.
SIGTERM stops reading, lets batches in flight finish, checkpoints, then exits.`;

if (import.meta.main) ingest({}).main(HELP);
