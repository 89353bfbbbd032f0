#!/usr/bin/env node
/**
 * Composition root of the scanner: ScanRequested → qscanner → ScanCompleted. Builds the SDK
 * clients and adapters around the core and receives requests until SIGTERM (the start-up path is
 * shared: `startService`). The only file that creates SDK clients.
 */
import { configVariables, redactSecrets, scannerConfigSpec, secretRedactor } from "@qcs/shared";
import { createServiceBusClient, createTableClient, defineService, StartupError } from "@qcs/shared/runtime";
import packageJson from "../package.json" with { type: "json" };
import { AcrRegistryAuth, selfAuthenticatingRegistries } from "./adapters/acr/acrRegistryAuth.ts";
import { QscannerProcessRunner, qscannerEnvironment } from "./adapters/qscanner/processRunner.ts";
import { RegistryDigestResolver } from "./adapters/registry/registryDigestResolver.ts";
import { TableScanCacheReader } from "./adapters/tableStorage/scanCacheReader.ts";
import { QSCANNER_MODE, QSCANNER_NAME } from "./core/qscannerCli.ts";
import { createScannerService } from "./scannerService.ts";

const scanner = defineService({
  name: "scanner",
  version: packageJson.version,
  spec: scannerConfigSpec,
  wire: async ({ config, env, logger, telemetry, lifecycle, credential }) => {
    const qscanner = new QscannerProcessRunner({
      executable: config.qscanner.path,
      env: qscannerEnvironment(env, config.qualys.accessToken, config.registryAuth),
    });
    const qscannerVersion = await versionOf(qscanner, config.qscanner.version, logger);

    const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
    lifecycle.onClose(() => serviceBus.close());
    const cache = new TableScanCacheReader(
      createTableClient(config.storage, config.scanMetadataTable, credential),
    );
    const baseUrl = config.registryApiBaseUrl;
    // The identity's ACR tokens: for the scanner's own HEAD requests in either mode, and for qscanner
    // with acr-exchange. The credential is built on the first ACR image.
    const acrAuth = new AcrRegistryAuth({
      credential: { getToken: (scopes, options) => credential().getToken(scopes, options) },
      tenantId: config.azure.tenantId,
      onSecret: (value) => secretRedactor.addSecret(value),
      ...(baseUrl === undefined ? {} : { registryEndpoint: () => baseUrl }),
    });
    const registryAuth = config.registryAuth === "acr-exchange" ? acrAuth : selfAuthenticatingRegistries;
    const digests = new RegistryDigestResolver({
      acrRefreshToken: (registry, signal) => acrAuth.refreshToken(registry, signal),
      baseUrl,
      onSecret: (value) => secretRedactor.addSecret(value),
    });
    const service = createScannerService({
      serviceBus,
      queueName: config.scanRequestsQueue,
      sweepQueueName: config.scanRequestsSweepQueue,
      maxPriorityStreak: config.maxPriorityStreak,
      topicName: config.scanCompletedTopic,
      cache,
      digests,
      registryAuth,
      qscanner,
      meter: telemetry.meter,
      tracer: telemetry.tracer,
      logger,
      redact: redactSecrets,
      concurrency: config.concurrency,
      handler: {
        pod: config.qualys.pod,
        cacheMs: config.cacheMs,
        rescanOnScannerUpgrade: config.rescanOnScannerUpgrade,
        scanTimeoutMs: config.scanTimeoutMs,
        retryBaseDelayMs: config.retryBaseDelayMs,
        scanner: { name: QSCANNER_NAME, version: qscannerVersion, mode: QSCANNER_MODE },
        scanTypes: config.qscanner.scanTypes,
        platform: config.qscanner.platform,
        sendTargetInfo: config.qscanner.sendTargetInfo,
        allowedPrivateRegistries: config.allowedPrivateRegistries,
      },
    });

    return {
      readiness: [
        { name: "servicebus", check: () => service.receiver.reachable() },
        { name: "storage", check: () => cache.reachable() },
      ],
      start: () => service.start(),
      stopIntake: () => service.stopIntake(),
      drain: (deadline) => service.drain(deadline),
      close: () => service.close(),
      details: { qscanner: { path: config.qscanner.path, version: qscannerVersion } },
    };
  },
});

/** Starts the scanner in this process (tests, benchmarks); shut it down with `shutdown()`. */
export const startScanner = scanner.start;

/** The version qscanner reports (QSCANNER_VERSION wins, with a warning when they differ). */
async function versionOf(
  qscanner: QscannerProcessRunner,
  configured: string | undefined,
  logger: { warn(details: object, message: string): void },
): Promise<string> {
  let reported: string | undefined;
  try {
    reported = await qscanner.version();
  } catch (error) {
    throw new StartupError(`qscanner cannot be run; check QSCANNER_PATH: ${(error as Error).message}`);
  }
  if (configured && reported && reported !== configured) {
    logger.warn({ expected: configured, reported }, "QSCANNER_VERSION differs from the binary's version");
  }
  return configured ?? reported ?? "unknown";
}

const HELP = `scanner: scans the images of ScanRequested messages with qscanner and publishes ScanCompleted.

Usage: node services/scanner/src/main.ts

Receives from SCAN_REQUESTS_QUEUE and, when no request waits there, from SCAN_REQUESTS_SWEEP_QUEUE
(SCANNER_CONCURRENCY at once, at most SCANNER_PRIORITY_STREAK deployment scans in a row while sweep
work waits), skips images scanned successfully within SCAN_CACHE_HOURS (by the digest a tag
resolves to and the qscanner version), runs qscanner at QSCANNER_PATH against the remote registry and publishes
the result to SCAN_COMPLETED_TOPIC; failures are retried or dead-lettered by class.

Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(scannerConfigSpec).join("\n  ")}

HTTP: GET /healthz, /readyz (Service Bus, Storage), /metrics.
SIGTERM stops receiving, lets scans finish within SHUTDOWN_GRACE_SECONDS, then abandons the rest.`;

if (import.meta.main) scanner.main(HELP);
