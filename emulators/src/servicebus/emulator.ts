/**
 * The Docker-free Service Bus broker: the project's (or a given) `Config.json` served over AMQP on
 * loopback, reachable from the official SDK with the same connection string shape as Microsoft's
 * emulator.
 */
import { startAmqpServer } from "../amqp/server.ts";
import { type RunningServiceBusAdminApi, startServiceBusAdminApi } from "./adminApi.ts";
import { resolveServiceBusConfig, type ServiceBusEmulatorConfig } from "./config.ts";
import { JournalFile } from "./journalFile.ts";
import { ServiceBusNamespace } from "./namespace.ts";

export {
  projectServiceBusConfigPath,
  ServiceBusConfigError,
  type ServiceBusEmulatorConfig,
} from "./config.ts";

export interface ServiceBusEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** A `Config.json` path or its parsed content. Default: the project's file. */
  config?: string | ServiceBusEmulatorConfig;
  /** Where connection-level problems (malformed frames, oversized deliveries) are reported. */
  onError?: (error: Error) => void;
  /**
   * Port of the management API with runtime counts (plain HTTP; Microsoft's emulator uses 5300),
   * 0 for a free port. Default: not started.
   */
  adminPort?: number;
  /**
   * Keep messages (active, scheduled, deferred, dead-lettered), sequence numbers and the
   * duplicate-detection window in this directory across restarts and crashes. Default: in memory.
   */
  dataDir?: string;
  /** Where data-directory problems that lose nothing are reported (a torn last line). Default: stderr. */
  onWarning?: (message: string) => void;
  /** Journal size past which it is always rewritten as a snapshot (tests); default 64 MiB or twice the last snapshot. */
  compactAfterBytes?: number;
}

export { JournalError } from "./journal.ts";

export interface RunningServiceBusEmulator {
  host: string;
  port: number;
  /** `Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true;` */
  connectionString: string;
  /** Port of the management API, when `adminPort` was given. */
  adminPort?: number;
  close(): Promise<void>;
}

/** Standard tier's message size; the SDK sizes batches from it. */
export const SERVICEBUS_MAX_MESSAGE_SIZE = 256 * 1024;

export async function startServiceBusEmulator(
  options: ServiceBusEmulatorOptions = {},
): Promise<RunningServiceBusEmulator> {
  const topology = await resolveServiceBusConfig(options.config);
  const warn = options.onWarning ?? ((message: string) => process.stderr.write(`servicebus: ${message}\n`));
  const durable =
    options.dataDir === undefined
      ? undefined
      : JournalFile.open({
          dir: options.dataDir,
          namespace: topology.namespace,
          report: warn,
          ...(options.compactAfterBytes === undefined
            ? {}
            : { compactAfterBytes: options.compactAfterBytes }),
        });
  const namespace = new ServiceBusNamespace(topology, durable?.journal);
  if (durable) {
    try {
      namespace.restore(durable.state, warn);
      durable.journal.start(() => namespace.snapshot());
    } catch (error) {
      namespace.close();
      durable.journal.close();
      throw error;
    }
  }
  const server = await startAmqpServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    services: [namespace],
    maxMessageSize: SERVICEBUS_MAX_MESSAGE_SIZE,
    onError: options.onError,
  }).catch((error: unknown) => {
    namespace.close();
    durable?.journal.close();
    throw error;
  });
  let admin: RunningServiceBusAdminApi | undefined;
  if (options.adminPort !== undefined) {
    admin = await startServiceBusAdminApi({
      host: options.host ?? "127.0.0.1",
      port: options.adminPort,
      runtimeCounts: (path) => namespace.runtimeCounts(path),
    }).catch(async (error: unknown) => {
      await server.close();
      namespace.close();
      durable?.journal.close();
      throw error;
    });
  }
  return {
    host: server.host,
    port: server.port,
    connectionString: serviceBusConnectionString(server.host, server.port),
    ...(admin ? { adminPort: admin.port } : {}),
    close: async () => {
      await admin?.close();
      await server.close();
      namespace.close();
      durable?.journal.close();
    },
  };
}

/** The connection string Microsoft's emulator documents, pointing at `host:port`. */
export function serviceBusConnectionString(host: string, port: number): string {
  const reachable =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return (
    `Endpoint=sb://${reachable}:${port};SharedAccessKeyName=RootManageSharedAccessKey;` +
    "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;"
  );
}
