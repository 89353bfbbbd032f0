/**
 * Building blocks for the per-service environment schemas: typed variables with defaults, and the
 * connection settings every service shares (a connection string locally and for the emulators, a
 * namespace or account name with managed identity in Azure).
 */
import { z } from "zod";
import { LOG_LEVELS } from "../logLevels.ts";

export const intVar = (defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "expected a whole number" })
    .int("expected a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(defaultValue);

export const boolVar = (defaultValue: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "expected true or false" })
    .default(defaultValue ? "true" : "false")
    .transform((value) => value === "true" || value === "1" || value === "yes");

export const stringVar = (defaultValue: string) => z.string().min(1).default(defaultValue);
export const optionalString = () => z.string().min(1).optional();

/** Comma-separated list; blanks dropped. */
export const listVar = () =>
  z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );

export const urlVar = () => z.url({ error: "expected an absolute URL" });

/** Variables every service reads. */
export const commonEnv = {
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  /**
   * Address the HTTP server (/healthz, /readyz, /metrics and the recorder's API) binds: every
   * interface in a container; 127.0.0.1 on a laptop (`npm start`) and in tests.
   */
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.hostname()], { error: "expected an IP address or a host name" })
    .default("0.0.0.0"),
  /** HTTP port for /healthz, /readyz, /metrics (and the recorder's API). */
  PORT: intVar(8080, 0, 65535),
  /** Seconds in-flight work may take to finish after SIGTERM before it is abandoned. */
  SHUTDOWN_GRACE_SECONDS: intVar(25, 0, 3600),
  /** Entra tenant and user-assigned identity client ID, read by DefaultAzureCredential in Azure. */
  AZURE_TENANT_ID: optionalString(),
  AZURE_CLIENT_ID: optionalString(),
};

/** How to reach a Service Bus, Event Hubs or Storage endpoint. */
export type Connection =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; fullyQualifiedNamespace: string };

export type StorageConnection =
  | { kind: "connectionString"; connectionString: string }
  | { kind: "identity"; accountName: string; tableUrl: string; blobUrl: string };

type Issue = (variable: string, message: string) => void;

/** Exactly one of `<PREFIX>_CONNECTION_STRING` and `<PREFIX>_NAMESPACE` (both services live under servicebus.windows.net). */
export function messagingConnection(
  prefix: "SERVICEBUS" | "EVENTHUBS",
  connectionString: string | undefined,
  namespace: string | undefined,
  issue: Issue,
): Connection {
  if (connectionString && namespace) {
    issue(
      `${prefix}_CONNECTION_STRING`,
      `set either ${prefix}_CONNECTION_STRING or ${prefix}_NAMESPACE, not both`,
    );
  }
  if (connectionString) {
    if (!/(^|;)\s*Endpoint=sb:\/\//i.test(connectionString)) {
      issue(
        `${prefix}_CONNECTION_STRING`,
        "expected Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...",
      );
    }
    return { kind: "connectionString", connectionString };
  }
  if (namespace) {
    return {
      kind: "identity",
      fullyQualifiedNamespace: namespace.includes(".") ? namespace : `${namespace}.servicebus.windows.net`,
    };
  }
  issue(
    `${prefix}_CONNECTION_STRING`,
    `set ${prefix}_CONNECTION_STRING, or ${prefix}_NAMESPACE to use managed identity`,
  );
  return { kind: "connectionString", connectionString: "" };
}

/** Exactly one of `STORAGE_CONNECTION_STRING` and `STORAGE_ACCOUNT_NAME`. */
export function storageConnection(
  connectionString: string | undefined,
  accountName: string | undefined,
  issue: Issue,
): StorageConnection {
  if (connectionString && accountName) {
    issue(
      "STORAGE_CONNECTION_STRING",
      "set either STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_NAME, not both",
    );
  }
  if (connectionString) return { kind: "connectionString", connectionString };
  if (accountName) {
    return {
      kind: "identity",
      accountName,
      tableUrl: `https://${accountName}.table.core.windows.net`,
      blobUrl: `https://${accountName}.blob.core.windows.net`,
    };
  }
  issue(
    "STORAGE_CONNECTION_STRING",
    "set STORAGE_CONNECTION_STRING, or STORAGE_ACCOUNT_NAME to use managed identity",
  );
  return { kind: "connectionString", connectionString: "" };
}

export const serviceBusEnv = {
  SERVICEBUS_CONNECTION_STRING: optionalString(),
  SERVICEBUS_NAMESPACE: optionalString(),
};

export const eventHubsEnv = {
  EVENTHUBS_CONNECTION_STRING: optionalString(),
  EVENTHUBS_NAMESPACE: optionalString(),
};

export const storageEnv = {
  STORAGE_CONNECTION_STRING: optionalString(),
  STORAGE_ACCOUNT_NAME: optionalString(),
};

/** Entity names: the single source of the defaults that infra/ and docker-compose.yml must match. */
export const ENTITY_DEFAULTS = {
  SCAN_REQUESTS_QUEUE: "scan-requests",
  /** Sweep requests: scanned only when no deployment request waits (issue 22). */
  SCAN_REQUESTS_SWEEP_QUEUE: "scan-requests-sweep",
  SCAN_COMPLETED_TOPIC: "scan-completed",
  RECORDER_SUBSCRIPTION: "recorder",
  EVENTHUB_NAME: "activity-log",
  EVENTHUB_CONSUMER_GROUP: "ingest",
  CHECKPOINT_CONTAINER: "checkpoints",
  SCAN_METADATA_TABLE: "ScanMetadata",
  SCAN_HISTORY_TABLE: "ScanHistory",
  WORKLOADS_TABLE: "Workloads",
  NOTIFICATIONS_QUEUE: "notifications",
} as const;

export const entityVar = (name: keyof typeof ENTITY_DEFAULTS) => stringVar(ENTITY_DEFAULTS[name]);

/** The settings every service reads from {@link commonEnv}, in the shape the services use. */
export function commonConfig(env: {
  LOG_LEVEL: (typeof LOG_LEVELS)[number];
  LOG_FORMAT?: "json" | "pretty" | undefined;
  HOST: string;
  PORT: number;
  SHUTDOWN_GRACE_SECONDS: number;
  AZURE_TENANT_ID?: string | undefined;
  AZURE_CLIENT_ID?: string | undefined;
}) {
  return {
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    host: env.HOST,
    port: env.PORT,
    shutdownGraceMs: env.SHUTDOWN_GRACE_SECONDS * 1000,
    azure: { tenantId: env.AZURE_TENANT_ID, clientId: env.AZURE_CLIENT_ID },
  };
}

/** How ingest and the sweep reach ARM (and Resource Graph). */
export const armEnv = {
  /** ARM endpoint; the local ARM emulator in development. */
  ARM_ENDPOINT: z.url().default("https://management.azure.com"),
  /** Static bearer token for a local ARM endpoint; unset in Azure (managed identity). */
  ARM_TOKEN: optionalString(),
  /** PEM file of a CA to trust for ARM_ENDPOINT (the local ARM emulator's certificate). */
  ARM_CA_FILE: optionalString(),
};
export function armConnection(env: { ARM_ENDPOINT: string; ARM_TOKEN?: string; ARM_CA_FILE?: string }) {
  return {
    endpoint: env.ARM_ENDPOINT.replace(/\/+$/, ""),
    staticToken: env.ARM_TOKEN,
    caFile: env.ARM_CA_FILE,
  };
}

/** Workloads ingest and the sweep leave alone: globs (case-insensitive) on resource group names, resource names and image references. */
export const exclusionEnv = {
  EXCLUDE_RESOURCE_GROUPS: listVar(),
  EXCLUDE_RESOURCE_NAMES: listVar(),
  EXCLUDE_IMAGES: listVar(),
};
export function exclusionsOf(env: {
  EXCLUDE_RESOURCE_GROUPS: string[];
  EXCLUDE_RESOURCE_NAMES: string[];
  EXCLUDE_IMAGES: string[];
}) {
  return {
    resourceGroups: env.EXCLUDE_RESOURCE_GROUPS,
    resourceNames: env.EXCLUDE_RESOURCE_NAMES,
    images: env.EXCLUDE_IMAGES,
  };
}
