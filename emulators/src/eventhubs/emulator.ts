/**
 * The Event Hubs emulator in-process: the shared AMQP server with the Event Hubs service, serving
 * the hubs of a Microsoft-format `Config.json`. Clients connect with the connection string of
 * Microsoft's Event Hubs emulator (no `EntityPath`: the hub name is passed to the client).
 */
import { join } from "node:path";
import { startAmqpServer } from "../amqp/server.ts";
import { type EventHubsEmulatorConfig, resolveEventHubsConfig } from "./config.ts";
import { attachEventFile } from "./eventFile.ts";
import { EventHubsNamespace } from "./namespace.ts";
import type { RetentionPolicy } from "./partitionLog.ts";
import { type EventHubsState, eventHubsService } from "./service.ts";

export { type EventHubsEmulatorConfig, projectEventHubsConfigPath } from "./config.ts";

/** Event Hubs' limit for one batch (Standard tier, and Microsoft's emulator). */
const MAX_MESSAGE_SIZE = 1024 * 1024;

export interface StartEventHubsEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** A `Config.json` path or its parsed content. Default: the project's file. */
  config?: string | EventHubsEmulatorConfig;
  /** Per partition. Default: 1 hour, 100 000 events, 64 MiB, whichever is reached first. */
  retention?: Partial<RetentionPolicy>;
  /** Connection-level problems (undecodable input, broken clients). Default: ignored. */
  onError?: (error: Error) => void;
  /**
   * Keep every partition's events in this folder across restarts and crashes (eventFile.ts);
   * default: in memory.
   */
  dataDir?: string;
}

export interface RunningEventHubsEmulator {
  host: string;
  port: number;
  /** `Endpoint=sb://host:port;SharedAccessKeyName=…;SharedAccessKey=…;UseDevelopmentEmulator=true;` */
  connectionString: string;
  close(): Promise<void>;
}

/** The key of Microsoft's emulator connection string: a documented placeholder, not a secret. */
const EMULATOR_KEY_NAME = "RootManageSharedAccessKey";
const EMULATOR_KEY = "SAS_KEY_VALUE";

export function eventHubsConnectionString(host: string, port: number): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `Endpoint=sb://${hostPart}:${port};SharedAccessKeyName=${EMULATOR_KEY_NAME};SharedAccessKey=${EMULATOR_KEY};UseDevelopmentEmulator=true;`;
}

export async function startEventHubsEmulator(
  options: StartEventHubsEmulatorOptions = {},
): Promise<RunningEventHubsEmulator> {
  const topology = await resolveEventHubsConfig(options.config);
  const state: EventHubsState = new EventHubsNamespace(topology, { retention: options.retention });
  const files = topology.hubs.flatMap((hub) =>
    options.dataDir === undefined
      ? []
      : hub.partitionIds.map((id) =>
          attachEventFile(
            state.hub(hub.name).partition(id),
            join(options.dataDir as string, hub.name.toLowerCase(), `${id}.jsonl`),
          ),
        ),
  );
  const closeFiles = () => {
    for (const file of files) file.close();
  };
  const server = await startAmqpServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    services: [eventHubsService(state, { maxMessageSize: MAX_MESSAGE_SIZE })],
    maxMessageSize: MAX_MESSAGE_SIZE,
    onError: options.onError,
  }).catch((error: unknown) => {
    closeFiles();
    throw error;
  });
  return {
    host: server.host,
    port: server.port,
    connectionString: eventHubsConnectionString(server.host, server.port),
    close: async () => {
      await server.close();
      closeFiles();
    },
  };
}
