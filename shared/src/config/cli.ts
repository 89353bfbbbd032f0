/**
 * Configuration of `scanctl`: the same variables as the services, so an operator's shell (or a
 * service's environment) configures it unchanged. Unlike a service, each connection is optional
 * here: a command checks for the one it needs, so `scanctl scans list` works without Service Bus.
 */
import { z } from "zod";
import {
  type Connection,
  commonEnv,
  entityVar,
  eventHubsEnv,
  intVar,
  messagingConnection,
  optionalString,
  serviceBusEnv,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";
import { notifyEnv, parseWebhooks } from "./notify.ts";

/** Port of the management (ATOM over HTTP) API of a development emulator; Microsoft's uses 5300. */
export const DEFAULT_EMULATOR_ADMIN_PORT = 5300;

export const scanctlConfigSpec = defineServiceConfig({
  service: "scanctl",
  env: z.object({
    AZURE_TENANT_ID: commonEnv.AZURE_TENANT_ID,
    AZURE_CLIENT_ID: commonEnv.AZURE_CLIENT_ID,
    ...serviceBusEnv,
    ...eventHubsEnv,
    /**
     * With `UseDevelopmentEmulator=true`, where the emulator serves runtime counts (`scanctl status`):
     * same host as the connection string, this port, plain HTTP.
     */
    SERVICEBUS_EMULATOR_ADMIN_PORT: intVar(DEFAULT_EMULATOR_ADMIN_PORT, 1, 65535),
    SCAN_REQUESTS_QUEUE: entityVar("SCAN_REQUESTS_QUEUE"),
    SCAN_REQUESTS_SWEEP_QUEUE: entityVar("SCAN_REQUESTS_SWEEP_QUEUE"),
    SCAN_COMPLETED_TOPIC: entityVar("SCAN_COMPLETED_TOPIC"),
    RECORDER_SUBSCRIPTION: entityVar("RECORDER_SUBSCRIPTION"),
    NOTIFICATIONS_QUEUE: entityVar("NOTIFICATIONS_QUEUE"),
    EVENTHUB_NAME: entityVar("EVENTHUB_NAME"),
    /** Base URL of the recorder's API, e.g. `http://127.0.0.1:8080`. */
    RECORDER_URL: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" }).optional(),
    /** Bearer key of the recorder's API (the recorder's own RECORDER_API_KEY). */
    RECORDER_API_KEY: optionalString(),
    /** `scanctl notify test` posts to these, as the recorder would. */
    ...notifyEnv,
  }),
  secrets: [
    "SERVICEBUS_CONNECTION_STRING",
    "EVENTHUBS_CONNECTION_STRING",
    "RECORDER_API_KEY",
    "NOTIFY_WEBHOOKS",
    "NOTIFY_WEBHOOK_SECRET",
  ],
  build: (env, issue) => ({
    serviceBus: optionalConnection(
      "SERVICEBUS",
      env.SERVICEBUS_CONNECTION_STRING,
      env.SERVICEBUS_NAMESPACE,
      issue,
    ),
    serviceBusEmulatorAdminPort: env.SERVICEBUS_EMULATOR_ADMIN_PORT,
    eventHubs: optionalConnection(
      "EVENTHUBS",
      env.EVENTHUBS_CONNECTION_STRING,
      env.EVENTHUBS_NAMESPACE,
      issue,
    ),
    scanRequestsQueue: env.SCAN_REQUESTS_QUEUE,
    scanRequestsSweepQueue: env.SCAN_REQUESTS_SWEEP_QUEUE,
    scanCompletedTopic: env.SCAN_COMPLETED_TOPIC,
    recorderSubscription: env.RECORDER_SUBSCRIPTION,
    notificationsQueue: env.NOTIFICATIONS_QUEUE,
    notify: {
      webhooks: parseWebhooks(env.NOTIFY_WEBHOOKS, (message) => issue("NOTIFY_WEBHOOKS", message)),
      secret: env.NOTIFY_WEBHOOK_SECRET,
      source: env.NOTIFY_SOURCE,
    },
    eventHubName: env.EVENTHUB_NAME,
    recorder:
      env.RECORDER_URL === undefined ? undefined : { url: env.RECORDER_URL, apiKey: env.RECORDER_API_KEY },
    azure: { tenantId: env.AZURE_TENANT_ID, clientId: env.AZURE_CLIENT_ID },
  }),
});
export type ScanctlConfig = ReturnType<typeof scanctlConfigSpec.build>;

function optionalConnection(
  prefix: "SERVICEBUS" | "EVENTHUBS",
  connectionString: string | undefined,
  namespace: string | undefined,
  issue: (variable: string, message: string) => void,
): Connection | undefined {
  if (connectionString === undefined && namespace === undefined) return undefined;
  return messagingConnection(prefix, connectionString, namespace, issue);
}
