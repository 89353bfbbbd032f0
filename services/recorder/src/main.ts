#!/usr/bin/env node
/**
 * Composition root of the recorder: builds the SDK clients and adapters around the core, serves the
 * API beside health and metrics, and receives ScanCompleted until SIGTERM (the start-up path is
 * shared: `startService`). The only file that creates SDK clients.
 */
import { configVariables, recorderConfigSpec, secretRedactor } from "@qcs/shared";
import { createServiceBusClient, createTableClient, defineService } from "@qcs/shared/runtime";
import packageJson from "../package.json" with { type: "json" };
import { registerCoverageGauges } from "./adapters/openTelemetry/coverageGauges.ts";
import { createRecorderMetrics } from "./adapters/openTelemetry/recorderMetrics.ts";
import { NotificationReceiver, NotificationSender } from "./adapters/serviceBus/notificationQueue.ts";
import { ScanCompletedReceiver } from "./adapters/serviceBus/scanCompletedReceiver.ts";
import { TableScanRecords } from "./adapters/tableStorage/tableScanRecords.ts";
import { TableWorkloads } from "./adapters/tableStorage/tableWorkloads.ts";
import { createWebhookPoster } from "./adapters/webhooks/webhookPoster.ts";
import { registerScanApi } from "./api/scanApi.ts";
import { CoverageReport } from "./core/coverageReport.ts";
import { createNotificationHandler } from "./core/deliverNotification.ts";
import { DEFAULT_DELIVERY_POLICY } from "./core/deliveryPolicy.ts";
import { createScanCompletedHandler, DEFAULT_STORAGE_RETRY } from "./core/handleScanCompleted.ts";
import { RecorderQueries } from "./core/recorderQueries.ts";
import { registerStatusPages } from "./pages/statusPages.ts";

const recorder = defineService({
  name: "recorder",
  version: packageJson.version,
  spec: recorderConfigSpec,
  wire: async ({ config, logger, telemetry, lifecycle, credential }) => {
    const records = new TableScanRecords({
      metadata: createTableClient(config.storage, config.scanMetadataTable, credential),
      history: createTableClient(config.storage, config.scanHistoryTable, credential),
      logger,
    });
    await records.ensureTables();
    const coverage = new CoverageReport({
      // Read only: ingest creates and writes Workloads.
      workloads: new TableWorkloads(
        createTableClient(config.storage, config.workloadsTable, credential),
        logger,
      ),
      states: records,
      sloHours: config.coverageSloHours,
      cacheMs: config.coverageCacheMs,
      onRefreshFailed: (error) =>
        logger.warn({ err: error }, "coverage: reading the tables failed; the previous reading answers"),
    });
    registerCoverageGauges(telemetry.meter, coverage, logger);
    // One set of caches for the API and the status page.
    const queries = new RecorderQueries({
      reader: records,
      coverage,
      statsCacheMs: config.statsCacheMs,
      onRefreshFailed: (error) =>
        logger.warn({ err: error }, "reading statistics or failures failed; the previous reading answers"),
    });

    const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
    lifecycle.onClose(() => serviceBus.close());
    // Each URL on its own too (the variable as a whole is registered by the config loader).
    for (const webhook of config.notify.webhooks) secretRedactor.addSecret(webhook.url);
    const outbox = new NotificationSender(serviceBus, config.notify.queue);
    // The notifier: its own receiver on its own queue, so webhooks never hold up recording.
    const notifier = new NotificationReceiver({
      client: serviceBus,
      queue: config.notify.queue,
      concurrency: config.concurrency,
      handler: createNotificationHandler({
        webhooks: config.notify.webhooks,
        post: createWebhookPoster({
          source: config.notify.source,
          secret: config.notify.secret,
          timeoutMs: config.notify.timeoutMs,
          userAgent: `qcs-recorder/${packageJson.version}`,
        }),
        policy: { ...DEFAULT_DELIVERY_POLICY, maxAttempts: config.notify.maxAttempts },
        logger,
      }),
      logger,
      maxLockRenewalMs:
        config.notify.maxAttempts * (DEFAULT_DELIVERY_POLICY.maxDelayMs + config.notify.timeoutMs),
    });
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
        notify: { outbox, minSeverity: config.notify.minSeverity },
      }),
      logger,
      tracer: telemetry.tracer,
      // Renew locks for as long as a handler may keep retrying storage, and a margin.
      maxLockRenewalMs: config.storageRetryBudgetMs + 60_000,
    });
    if (config.apiKey === undefined) logger.warn("RECORDER_API_KEY is not set: /api/* answers 503");

    return {
      readiness: [
        { name: "servicebus", check: () => receiver.ready() },
        { name: "notifier", check: () => notifier.ready() },
        { name: "storage", check: () => records.ping() },
      ],
      routes: async (server) => {
        await registerScanApi(server, {
          reader: records,
          apiKey: config.apiKey,
          version: packageJson.version,
          rateLimitPerMinute: config.apiRateLimitPerMinute,
          statsCacheMs: config.statsCacheMs,
          coverage,
          coverageCacheSeconds: config.coverageCacheMs / 1000,
          queries,
        });
        await registerStatusPages(server, {
          queries,
          apiKey: config.apiKey,
          auth: config.pageAuth,
          rateLimitPerMinute: config.apiRateLimitPerMinute,
        });
      },
      start: () => {
        receiver.start();
        notifier.start();
      },
      stopIntake: async () => {
        await Promise.all([receiver.stopIntake(), notifier.stopIntake()]);
      },
      drain: async (deadline) => {
        await Promise.all([receiver.drain(deadline), notifier.drain(deadline)]);
      },
      close: async () => {
        await Promise.all([receiver.close(), notifier.close()]);
      },
    };
  },
});

/** Starts the recorder in this process (tests, benchmarks); shut it down with `shutdown()`. */
export const startRecorder = recorder.start;

const HELP = `recorder: records ScanCompleted results in Table Storage and serves them over HTTP; queues
notifications as it records and delivers them to NOTIFY_WEBHOOKS.

Usage: node services/recorder/src/main.ts

Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(recorderConfigSpec).join("\n  ")}

HTTP: GET /healthz, /readyz, /metrics; /api/* with "Authorization: Bearer <RECORDER_API_KEY>";
the OpenAPI document is at /api/openapi.json; the status page at / (log in with the same key). SIGTERM drains work in flight, then exits.`;

if (import.meta.main) recorder.main(HELP);
