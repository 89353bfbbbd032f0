#!/usr/bin/env node
// services/scanner: ScanRequested -> qscanner -> ScanCompleted. Wiring only: read configuration,
// build the SDK clients and adapters, start, and shut down gracefully on SIGTERM.
import { TableClient } from "@azure/data-tables";
import {
  createCredential,
  createLogger,
  createServiceBusClient,
  createServiceServer,
  isConfigError,
  loadServiceConfig,
  redactSecrets,
  ServiceLifecycle,
  scannerConfigSpec,
  secretRedactor,
  startTelemetry,
} from "@qcs/shared";
import { AcrRegistryAuth, selfAuthenticatingRegistries } from "./adapters/acr/acrRegistryAuth.ts";
import { QscannerProcessRunner, qscannerEnvironment } from "./adapters/qscanner/processRunner.ts";
import { TableScanCacheReader } from "./adapters/tableStorage/scanCacheReader.ts";
import { QSCANNER_MODE, QSCANNER_NAME } from "./core/qscannerCli.ts";
import { createScannerService } from "./scannerService.ts";

const { config, effective } = loadConfig();
const logger = createLogger({
  name: "scanner",
  level: config.logLevel,
  ...(config.logFormat ? { format: config.logFormat } : {}),
});
logger.info({ config: effective }, "starting");
const telemetry = startTelemetry({ serviceName: "scanner" });

const qscanner = new QscannerProcessRunner({
  executable: config.qscanner.path,
  env: qscannerEnvironment(process.env, config.qualys.accessToken),
});
let qscannerVersion: string;
try {
  const reported = await qscanner.version();
  if (config.qscanner.version && reported && reported !== config.qscanner.version) {
    logger.warn(
      { expected: config.qscanner.version, reported },
      "QSCANNER_VERSION differs from the binary's version",
    );
  }
  qscannerVersion = config.qscanner.version ?? reported ?? "unknown";
} catch (error) {
  logger.fatal({ err: error, path: config.qscanner.path }, "qscanner cannot be run; check QSCANNER_PATH");
  process.exit(1);
}

const credential = createCredential(config.azure);
const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
const table =
  config.storage.kind === "connectionString"
    ? TableClient.fromConnectionString(config.storage.connectionString, config.scanMetadataTable, {
        // Azurite speaks plain HTTP; Azure connection strings name https endpoints.
        allowInsecureConnection: /UseDevelopmentStorage=true|Endpoint=http:\/\//i.test(
          config.storage.connectionString,
        ),
      })
    : new TableClient(config.storage.tableUrl, config.scanMetadataTable, credential);
const cache = new TableScanCacheReader(table);
const registryAuth =
  config.registryAuth === "none"
    ? selfAuthenticatingRegistries
    : new AcrRegistryAuth({
        credential,
        tenantId: config.azure.tenantId,
        onSecret: (value) => secretRedactor.addSecret(value),
      });

const lifecycle = new ServiceLifecycle({ logger, graceMs: config.shutdownGraceMs });
const service = createScannerService({
  serviceBus,
  queueName: config.scanRequestsQueue,
  topicName: config.scanCompletedTopic,
  cache,
  registryAuth,
  qscanner,
  meter: telemetry.meter,
  logger,
  redact: redactSecrets,
  concurrency: config.concurrency,
  handler: {
    pod: config.qualys.pod,
    cacheMs: config.cacheMs,
    scanTimeoutMs: config.scanTimeoutMs,
    retryBaseDelayMs: config.retryBaseDelayMs,
    scanner: { name: QSCANNER_NAME, version: qscannerVersion, mode: QSCANNER_MODE },
    scanTypes: config.qscanner.scanTypes,
    platform: config.qscanner.platform,
    sendTargetInfo: config.qscanner.sendTargetInfo,
    allowedPrivateRegistries: config.allowedPrivateRegistries,
  },
});
const server = createServiceServer({
  logger,
  telemetry,
  lifecycle,
  readiness: [
    { name: "servicebus", check: () => service.receiver.reachable() },
    { name: "storage", check: () => cache.reachable() },
  ],
});

// Close steps run in reverse order of registration: the service first, telemetry last.
lifecycle
  .onStopIntake(() => service.stopIntake())
  .onDrain((deadline) => service.drain(deadline))
  .onClose(() => telemetry.shutdown())
  .onClose(() => server.close())
  .onClose(() => serviceBus.close())
  .onClose(() => service.close());
lifecycle.handleSignals();

await server.listen({ host: config.host, port: config.port });
const address = server.server.address();
logger.info(
  {
    port: typeof address === "object" && address ? address.port : config.port,
    qscanner: { path: config.qscanner.path, version: qscannerVersion },
  },
  "listening",
);
service.start();

function loadConfig() {
  try {
    return loadServiceConfig(scannerConfigSpec);
  } catch (error) {
    if (!isConfigError(error)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
