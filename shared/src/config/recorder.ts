import { z } from "zod";
import {
  commonConfig,
  commonEnv,
  entityVar,
  intVar,
  messagingConnection,
  serviceBusEnv,
  storageConnection,
  storageEnv,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";
import { notifyEnv, parseWebhooks, SEVERITIES } from "./notify.ts";

/** A shorter key can be guessed; 32 characters of base64 carry 192 bits. */
export const MIN_API_KEY_LENGTH = 32;

export const recorderConfigSpec = defineServiceConfig({
  service: "recorder",
  env: z.object({
    ...commonEnv,
    ...serviceBusEnv,
    ...storageEnv,
    SCAN_COMPLETED_TOPIC: entityVar("SCAN_COMPLETED_TOPIC"),
    RECORDER_SUBSCRIPTION: entityVar("RECORDER_SUBSCRIPTION"),
    SCAN_METADATA_TABLE: entityVar("SCAN_METADATA_TABLE"),
    SCAN_HISTORY_TABLE: entityVar("SCAN_HISTORY_TABLE"),
    /** Read only: ingest and its sweep write it. */
    WORKLOADS_TABLE: entityVar("WORKLOADS_TABLE"),
    /** Results recorded at once in one replica. */
    RECORDER_CONCURRENCY: intVar(4, 1, 64),
    /** Seconds one delivery keeps retrying Table Storage before it is abandoned to the broker. */
    RECORDER_STORAGE_RETRY_SECONDS: intVar(120, 1, 3600),
    /** Bearer key that guards /api/*. Unset: the API answers 503 rather than serve unauthenticated. */
    RECORDER_API_KEY: z
      .string()
      .min(
        MIN_API_KEY_LENGTH,
        `must be at least ${MIN_API_KEY_LENGTH} characters; generate one with: openssl rand -base64 32`,
      )
      .optional(),
    /** Requests per minute one client address may make to /api/* (failed authentications included). */
    RECORDER_API_RATE_LIMIT: intVar(300, 1, 1_000_000),
    /**
     * Who may see the status page: `key` (a login form that takes RECORDER_API_KEY) or `entra`
     * (Container Apps' built-in authentication signs people in with Microsoft Entra ID in front of
     * the app and names them in X-MS-CLIENT-PRINCIPAL-* headers; /api/* keeps the key either way).
     */
    RECORDER_PAGE_AUTH: z.enum(["key", "entra"]).default("key"),
    /** How long /api/stats answers from the last count before counting again. */
    RECORDER_STATS_CACHE_SECONDS: intVar(60, 0, 3600),
    NOTIFICATIONS_QUEUE: entityVar("NOTIFICATIONS_QUEUE"),
    /** Findings at or above this severity are notified when new. */
    NOTIFY_MIN_SEVERITY: z.enum(SEVERITIES).default("high"),
    /** Delivery attempts per webhook (429, 5xx, timeouts are retried) before the notification is dead-lettered. */
    NOTIFY_MAX_ATTEMPTS: intVar(5, 1, 20),
    /** Seconds one webhook request may take. */
    NOTIFY_TIMEOUT_SECONDS: intVar(10, 1, 120),
    ...notifyEnv,
    /** A running image is `current` while its last successful scan is younger than this (24 h cache + a sweep). */
    COVERAGE_SLO_HOURS: intVar(30, 1, 8760),
    /** How long /api/coverage and the coverage gauges answer from one reading of the tables (0: read per request). */
    COVERAGE_CACHE_SECONDS: intVar(60, 0, 3600),
  }),
  secrets: [
    "SERVICEBUS_CONNECTION_STRING",
    "STORAGE_CONNECTION_STRING",
    "RECORDER_API_KEY",
    "NOTIFY_WEBHOOKS",
    "NOTIFY_WEBHOOK_SECRET",
  ],
  build: (env, issue) => ({
    ...commonConfig(env),
    serviceBus: messagingConnection(
      "SERVICEBUS",
      env.SERVICEBUS_CONNECTION_STRING,
      env.SERVICEBUS_NAMESPACE,
      issue,
    ),
    storage: storageConnection(env.STORAGE_CONNECTION_STRING, env.STORAGE_ACCOUNT_NAME, issue),
    scanCompletedTopic: env.SCAN_COMPLETED_TOPIC,
    recorderSubscription: env.RECORDER_SUBSCRIPTION,
    scanMetadataTable: env.SCAN_METADATA_TABLE,
    scanHistoryTable: env.SCAN_HISTORY_TABLE,
    workloadsTable: env.WORKLOADS_TABLE,
    concurrency: env.RECORDER_CONCURRENCY,
    storageRetryBudgetMs: env.RECORDER_STORAGE_RETRY_SECONDS * 1000,
    apiKey: env.RECORDER_API_KEY,
    apiRateLimitPerMinute: env.RECORDER_API_RATE_LIMIT,
    pageAuth: env.RECORDER_PAGE_AUTH,
    statsCacheMs: env.RECORDER_STATS_CACHE_SECONDS * 1000,
    notify: {
      queue: env.NOTIFICATIONS_QUEUE,
      minSeverity: env.NOTIFY_MIN_SEVERITY,
      webhooks: parseWebhooks(env.NOTIFY_WEBHOOKS, (message) => issue("NOTIFY_WEBHOOKS", message)),
      secret: env.NOTIFY_WEBHOOK_SECRET,
      source: env.NOTIFY_SOURCE,
      maxAttempts: env.NOTIFY_MAX_ATTEMPTS,
      timeoutMs: env.NOTIFY_TIMEOUT_SECONDS * 1000,
    },
    coverageSloHours: env.COVERAGE_SLO_HOURS,
    coverageCacheMs: env.COVERAGE_CACHE_SECONDS * 1000,
  }),
});
export type RecorderConfig = ReturnType<typeof recorderConfigSpec.build>;
