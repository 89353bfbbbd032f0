/**
 * The environment of each service in the local stack: the user's environment (so LOG_LEVEL,
 * SCANNER_CONCURRENCY, EXCLUDE_* and the like can be tuned as usual) without anything that would
 * point a service elsewhere, plus the local endpoints.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Variables the stack owns: connection settings, entity names (the emulators' configuration), ports. */
const OWNED = [
  "SERVICEBUS_CONNECTION_STRING",
  "SERVICEBUS_NAMESPACE",
  "EVENTHUBS_CONNECTION_STRING",
  "EVENTHUBS_NAMESPACE",
  "STORAGE_CONNECTION_STRING",
  "STORAGE_ACCOUNT_NAME",
  "SCAN_REQUESTS_QUEUE",
  "SCAN_REQUESTS_SWEEP_QUEUE",
  "SCAN_COMPLETED_TOPIC",
  "RECORDER_SUBSCRIPTION",
  "NOTIFICATIONS_QUEUE",
  "EVENTHUB_NAME",
  "EVENTHUB_CONSUMER_GROUP",
  "CHECKPOINT_CONTAINER",
  "SCAN_METADATA_TABLE",
  "SCAN_HISTORY_TABLE",
  "ARM_ENDPOINT",
  "ARM_TOKEN",
  "ARM_CA_FILE",
  "REGISTRY_API_BASE_URL",
  "RECORDER_API_KEY",
  "PORT",
  "HOST",
];

export interface LocalEndpoints {
  serviceBus: string;
  eventHubs: string;
  storage: string;
  arm: { endpoint: string; token: string; caFile: string };
  /** The local registry: every registry host's API. */
  registry: string;
  recorderApiKey: string;
  /** The local webhook sink, unless the user's NOTIFY_WEBHOOKS replaces it. */
  notify?: { webhooks: string; secret: string } | undefined;
}

export interface ScannerChoice {
  kind: "simulator" | "qscanner";
  /** Executable the scanner runs. */
  path: string;
}

/** The real qscanner when the user gives both its path and a Qualys token; the simulator otherwise. */
export function chooseScanner(env: Env, simulatorPath: string): ScannerChoice {
  const token = env.QUALYS_ACCESS_TOKEN || env.QUALYS_ACCESS_TOKEN_FILE;
  if (env.QSCANNER_PATH && token) return { kind: "qscanner", path: env.QSCANNER_PATH };
  return { kind: "simulator", path: simulatorPath };
}

export type ServiceName = "ingest" | "scanner" | "recorder";

export interface ServiceEnvOptions {
  service: ServiceName;
  port: number;
  host: string;
  endpoints: LocalEndpoints;
  scanner: ScannerChoice;
  /** Per-run temporary folder for the scanner (the simulator keeps its retry counters there). */
  scannerTmpDir: string;
  /** `pretty` when the output is a terminal. */
  logFormat: "pretty" | "json";
  /** Directory of the Node that runs the stack, first on PATH so `#!/usr/bin/env node` finds it. */
  nodeDir: string;
}

export function serviceEnv(base: Env, options: ServiceEnvOptions): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  for (const name of OWNED) {
    env[name] = undefined;
    env[`${name}_FILE`] = undefined;
  }
  const { endpoints } = options;
  const defaults = (values: Record<string, string>) => {
    for (const [name, value] of Object.entries(values)) if (!base[name]) env[name] = value;
  };
  Object.assign(env, {
    PATH: [options.nodeDir, base.PATH].filter(Boolean).join(":"),
    PORT: String(options.port),
    HOST: options.host,
    SERVICEBUS_CONNECTION_STRING: endpoints.serviceBus,
    STORAGE_CONNECTION_STRING: endpoints.storage,
  });
  defaults({ LOG_FORMAT: options.logFormat, SHUTDOWN_GRACE_SECONDS: "5" });

  if (options.service === "ingest") {
    Object.assign(env, {
      EVENTHUBS_CONNECTION_STRING: endpoints.eventHubs,
      ARM_ENDPOINT: endpoints.arm.endpoint,
      ARM_TOKEN: endpoints.arm.token,
      ARM_CA_FILE: endpoints.arm.caFile,
    });
    // A restarted ingest takes over the partitions of the one that crashed in seconds, not a minute.
    defaults({ INGEST_PARTITION_OWNERSHIP_SECONDS: "12" });
  }
  if (options.service === "recorder") {
    env.RECORDER_API_KEY = endpoints.recorderApiKey;
    if (endpoints.notify) {
      Object.assign(env, {
        NOTIFY_WEBHOOKS: endpoints.notify.webhooks,
        NOTIFY_WEBHOOK_SECRET: endpoints.notify.secret,
        NOTIFY_WEBHOOK_SECRET_FILE: undefined,
      });
    }
  }
  if (options.service === "scanner") {
    env.TMPDIR = options.scannerTmpDir;
    env.QSCANNER_PATH = options.scanner.path;
    // Tags resolve on the local registry, by the scanner and by the simulator alike.
    env.REGISTRY_API_BASE_URL = endpoints.registry;
    if (options.scanner.kind === "simulator") {
      // The simulator wants a pod and a token like the real CLI; neither leaves this machine.
      Object.assign(env, {
        QUALYS_POD: "US2",
        QUALYS_ACCESS_TOKEN: "local-simulator-token",
        QUALYS_ACCESS_TOKEN_FILE: undefined,
        QSCANNER_VERSION: undefined,
      });
    }
    // Retries come after seconds rather than minutes, so the examples' retried scan finishes quickly.
    defaults({ SCAN_RETRY_DELAY_SECONDS: "1" });
  }
  return env;
}
