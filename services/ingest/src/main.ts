#!/usr/bin/env node
/**
 * Composition root of ingest: reads configuration, builds the SDK clients and adapters, hands
 * them to the core, serves health and metrics, and turns Event Hub events into ScanRequested
 * messages until SIGTERM. The only file that reads `process.env` or creates SDK clients.
 */
import { readFileSync } from "node:fs";
import {
  configVariables,
  createCredential,
  createLogger,
  createServiceBusClient,
  createServiceServer,
  type Env,
  ingestConfigSpec,
  isConfigError,
  loadServiceConfig,
  ServiceLifecycle,
  startTelemetry,
} from "@qcs/shared";
import packageJson from "../package.json" with { type: "json" };
import { armClientsFactory, staticTokenCredential } from "./adapters/arm/armClients.ts";
import { armLookup } from "./adapters/arm/armLookup.ts";
import { createConsumerClients } from "./adapters/eventHubs/consumerClient.ts";
import { EventHubIngest } from "./adapters/eventHubs/eventHubIngest.ts";
import { createIngestMetrics } from "./adapters/openTelemetry/ingestMetrics.ts";
import { serviceBusScanRequestSink } from "./adapters/serviceBus/scanRequestSender.ts";
import { BatchProcessor } from "./core/batchProcessor.ts";
import { compileExclusions } from "./core/exclusions.ts";
import { cachedLookup } from "./core/lookupCache.ts";
import { RecentRequests } from "./core/recentRequests.ts";

export interface StartIngestOptions {
  /** Default: `process.env`. */
  env?: Env;
  /** Shut down on SIGTERM/SIGINT and exit. Default: false (the caller calls `shutdown`). */
  handleSignals?: boolean;
  /** Tests shorten the Event Hubs load-balancing cycle and the pause before replaying unsettled events. */
  tuning?: {
    loadBalancing?: { updateIntervalInMs?: number; partitionOwnershipExpirationIntervalInMs?: number };
    replayDelay?: { initialMs: number; maxMs: number };
    maxWaitTimeInSeconds?: number;
    armRetryDelayMs?: number;
  };
}

export interface RunningIngest {
  /** Base URL of the HTTP server (/healthz, /readyz, /metrics). */
  url: string;
  shutdown(): Promise<void>;
}

export async function startIngest(options: StartIngestOptions = {}): Promise<RunningIngest> {
  const env = options.env ?? process.env;
  const tuning = options.tuning ?? {};
  const { config, effective } = loadServiceConfig(ingestConfigSpec, env);
  const logger = createLogger({ name: "ingest", level: config.logLevel, format: config.logFormat });
  logger.info({ config: effective, version: packageJson.version }, "starting");

  const telemetry = startTelemetry({ serviceName: "ingest", serviceVersion: packageJson.version, env });
  const lifecycle = new ServiceLifecycle({ logger, graceMs: config.shutdownGraceMs });
  lifecycle.onClose(() => telemetry.shutdown());
  let azureCredential: ReturnType<typeof createCredential> | undefined;
  const credential = () => {
    azureCredential ??= createCredential(config.azure);
    return azureCredential;
  };

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
    loadBalancing: tuning.loadBalancing,
  });
  await checkpoints.createIfNotExists();
  lifecycle.onClose(() => consumer.close());

  const processor = new BatchProcessor({
    lookup: cachedLookup(armLookup({ clientsFor: arm, timeoutMs: config.arm.timeoutMs }), {
      ttlMs: config.arm.cacheMs,
    }),
    sink: serviceBusScanRequestSink(sender),
    exclusions: compileExclusions(config.exclusions),
    recent: new RecentRequests(config.dedupWindowMs),
    logger,
    lookupConcurrency: config.arm.concurrency,
  });
  const metrics = createIngestMetrics(telemetry.meter);
  const ingest = new EventHubIngest({
    client: consumer,
    process: (bodies, signal, memory) => processor.process(bodies, signal, memory),
    onBatch: metrics.batch,
    onBatchFailed: metrics.batchFailed,
    onGiveUp: metrics.givenUp,
    giveUpAfterMs: config.retryGiveUpMs,
    logger,
    maxBatchSize: config.batchSize,
    maxWaitTimeInSeconds: tuning.maxWaitTimeInSeconds,
    retry: tuning.replayDelay,
  });

  const server = createServiceServer({
    logger,
    telemetry,
    lifecycle,
    readiness: [
      { name: "eventhubs", check: () => ingest.ready() },
      // Creating a batch opens the sender's link and reads the queue's message size limit.
      { name: "servicebus", check: async () => Boolean(await sender.createMessageBatch()) },
      { name: "storage", check: () => checkpoints.exists() },
    ],
  });
  lifecycle.onClose(() => server.close());
  lifecycle.onStopIntake(() => ingest.stopIntake());
  lifecycle.onDrain((deadline) => ingest.drain(deadline));
  lifecycle.onClose(() => ingest.close());

  const url = await server.listen({ host: config.host, port: config.port });
  ingest.start();
  if (options.handleSignals) lifecycle.handleSignals();
  logger.info({ url }, "ingest ready");
  return { url, shutdown: () => lifecycle.shutdown("shutdown requested") };
}

const HELP = `ingest: turns Activity Log and Event Grid events on an Event Hub into ScanRequested messages.

Usage: node services/ingest/src/main.ts

Reads the hub EVENTHUB_NAME with consumer group EVENTHUB_CONSUMER_GROUP (checkpoints in the blob
container CHECKPOINT_CONTAINER), keeps successful writes of container groups, container apps and
jobs, looks their images up in ARM and sends one request per image to SCAN_REQUESTS_QUEUE.

Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(ingestConfigSpec).join("\n  ")}

HTTP: GET /healthz, /readyz (Event Hubs, Service Bus, Storage), /metrics.
SIGTERM stops reading, lets batches in flight finish, checkpoints, then exits.`;

if (import.meta.main) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(HELP);
  } else {
    startIngest({ handleSignals: true }).catch((error: unknown) => {
      console.error(isConfigError(error) ? error.message : error);
      process.exit(1);
    });
  }
}
