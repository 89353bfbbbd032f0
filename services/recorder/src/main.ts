#!/usr/bin/env node
/**
 * Composition root of the recorder: reads configuration, builds the SDK clients and adapters,
 * hands them to the core, serves health, metrics and the API, and receives ScanCompleted until
 * SIGTERM. The only file that reads `process.env` or creates SDK clients.
 */
import { TableClient } from "@azure/data-tables";
import {
  configVariables,
  type Env,
  isConfigError,
  loadServiceConfig,
  recorderConfigSpec,
  type StorageConnection,
} from "@qcs/shared";
import {
  type AzureIdentityConfig,
  createCredential,
  createLogger,
  createServiceBusClient,
  createServiceServer,
  ServiceLifecycle,
  startTelemetry,
} from "@qcs/shared/runtime";
import packageJson from "../package.json" with { type: "json" };
import { createRecorderMetrics } from "./adapters/openTelemetry/recorderMetrics.ts";
import { ScanCompletedReceiver } from "./adapters/serviceBus/scanCompletedReceiver.ts";
import { TableScanRecords } from "./adapters/tableStorage/tableScanRecords.ts";
import { registerScanApi } from "./api/scanApi.ts";
import { createScanCompletedHandler, DEFAULT_STORAGE_RETRY } from "./core/handleScanCompleted.ts";

export interface StartRecorderOptions {
  /** Default: `process.env`. */
  env?: Env;
  /** Shut down on SIGTERM/SIGINT and exit. Default: false (the caller calls `shutdown`). */
  handleSignals?: boolean;
}

export interface RunningRecorder {
  /** Base URL of the HTTP server. */
  url: string;
  shutdown(): Promise<void>;
}

export async function startRecorder(options: StartRecorderOptions = {}): Promise<RunningRecorder> {
  const env = options.env ?? process.env;
  const { config, effective } = loadServiceConfig(recorderConfigSpec, env);
  const logger = createLogger({ name: "recorder", level: config.logLevel, format: config.logFormat });
  logger.info({ config: effective, version: packageJson.version }, "starting");

  const telemetry = startTelemetry({ serviceName: "recorder", serviceVersion: packageJson.version, env });
  const lifecycle = new ServiceLifecycle({ logger, graceMs: config.shutdownGraceMs });
  lifecycle.onClose(() => telemetry.shutdown());

  const records = new TableScanRecords({
    metadata: tableClient(config.storage, config.scanMetadataTable, config.azure),
    history: tableClient(config.storage, config.scanHistoryTable, config.azure),
    logger,
  });
  await records.ensureTables();

  const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
  const receiver = new ScanCompletedReceiver({
    client: serviceBus,
    topic: config.scanCompletedTopic,
    subscription: config.recorderSubscription,
    concurrency: config.concurrency,
    handler: createScanCompletedHandler({
      store: records,
      metrics: createRecorderMetrics(telemetry.meter),
      logger,
      retry: { ...DEFAULT_STORAGE_RETRY, budgetMs: config.storageRetryBudgetMs },
    }),
    logger,
    tracer: telemetry.tracer,
    // Renew locks for as long as a handler may keep retrying storage, and a margin.
    maxLockRenewalMs: config.storageRetryBudgetMs + 60_000,
  });

  const server = createServiceServer({
    logger,
    telemetry,
    lifecycle,
    readiness: [
      { name: "servicebus", check: () => receiver.ready() },
      { name: "storage", check: () => records.ping() },
    ],
  });
  await registerScanApi(server, { reader: records, apiKey: config.apiKey, version: packageJson.version });
  if (config.apiKey === undefined) logger.warn("RECORDER_API_KEY is not set: /api/* answers 503");
  lifecycle.onClose(() => server.close());
  lifecycle.onClose(() => serviceBus.close());
  lifecycle.onStopIntake(() => receiver.stopIntake());
  lifecycle.onDrain((deadline) => receiver.drain(deadline));
  lifecycle.onClose(() => receiver.close());

  const url = await server.listen({ host: config.host, port: config.port });
  receiver.start();
  if (options.handleSignals) lifecycle.handleSignals();
  logger.info({ url }, "recorder ready");
  return { url, shutdown: () => lifecycle.shutdown("shutdown requested") };
}

function tableClient(storage: StorageConnection, table: string, identity: AzureIdentityConfig): TableClient {
  return storage.kind === "connectionString"
    ? // A connection string with an http endpoint is Azurite's; Azure's are https.
      TableClient.fromConnectionString(storage.connectionString, table, { allowInsecureConnection: true })
    : new TableClient(storage.tableUrl, table, createCredential(identity));
}

const HELP = `recorder: records ScanCompleted results in Table Storage and serves them over HTTP.

Usage: node services/recorder/src/main.ts

Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(recorderConfigSpec).join("\n  ")}

HTTP: GET /healthz, /readyz, /metrics; /api/* with "Authorization: Bearer <RECORDER_API_KEY>";
the OpenAPI document is at /api/openapi.json. SIGTERM drains work in flight, then exits.`;

if (import.meta.main) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(HELP);
  } else {
    startRecorder({ handleSignals: true }).catch((error: unknown) => {
      console.error(isConfigError(error) ? error.message : error);
      process.exit(1);
    });
  }
}
