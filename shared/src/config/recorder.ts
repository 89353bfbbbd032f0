import { z } from "zod";
import {
  commonConfig,
  commonEnv,
  entityVar,
  intVar,
  messagingConnection,
  optionalString,
  serviceBusEnv,
  storageConnection,
  storageEnv,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";

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
    /** Results recorded at once in one replica. */
    RECORDER_CONCURRENCY: intVar(4, 1, 64),
    /** Seconds one delivery keeps retrying Table Storage before it is abandoned to the broker. */
    RECORDER_STORAGE_RETRY_SECONDS: intVar(120, 1, 3600),
    /** Bearer key that guards /api/*. Unset: the API answers 503 rather than serve unauthenticated. */
    RECORDER_API_KEY: optionalString(),
  }),
  secrets: ["SERVICEBUS_CONNECTION_STRING", "STORAGE_CONNECTION_STRING", "RECORDER_API_KEY"],
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
    concurrency: env.RECORDER_CONCURRENCY,
    storageRetryBudgetMs: env.RECORDER_STORAGE_RETRY_SECONDS * 1000,
    apiKey: env.RECORDER_API_KEY,
  }),
});
export type RecorderConfig = ReturnType<typeof recorderConfigSpec.build>;
