/**
 * What the Event Hubs conformance suite runs against: this project's emulator (always), and
 * Microsoft's Event Hubs emulator in Docker through testcontainers when a Docker engine answers.
 * Both serve the same Microsoft-format configuration, one hub per behaviour so tests stay
 * independent on a broker whose state cannot be reset.
 */
import { GenericContainer, getContainerRuntimeClient, Network, Wait } from "testcontainers";
import type { EventHubsEmulatorConfig } from "../../../src/eventhubs/config.ts";
import { eventHubsConnectionString, startEventHubsEmulator } from "../../../src/eventhubs/emulator.ts";

export interface EventHubsTarget {
  /** Only the project's emulator can be configured beyond Config.json (retention) and probed for leaks. */
  kind: "emulator" | "microsoft";
  connectionString: string;
  close(): Promise<void>;
}

export interface TargetDefinition {
  name: string;
  /** Why the target cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  start(): Promise<EventHubsTarget>;
}

const hub = (Name: string, PartitionCount: number, ...groups: string[]) => ({
  Name,
  PartitionCount: String(PartitionCount),
  ...(groups.length > 0 ? { ConsumerGroups: groups.map((group) => ({ Name: group })) } : {}),
});

/** At most 10 hubs: Microsoft's emulator's limit. */
export const conformanceConfig: EventHubsEmulatorConfig = {
  UserConfig: {
    NamespaceConfig: [
      {
        Type: "EventHub",
        Name: "emulatorNs1",
        Entities: [
          hub("properties", 4),
          hub("routing", 4),
          hub("positions", 2),
          hub("round-trip", 1),
          hub("owners", 2),
          hub("groups", 2, "cg-a", "cg-b"),
          hub("metrics", 1),
          hub("limits", 1),
          hub("balance", 4, "ingest"),
          hub("resume", 2, "ingest"),
        ],
      },
    ],
    LoggingConfig: { Type: "Console" },
  },
};

export const projectEmulator: TargetDefinition = {
  name: "the project's Event Hubs emulator",
  unavailable: async () => undefined,
  start: async () => {
    const emulator = await startEventHubsEmulator({ host: "127.0.0.1", port: 0, config: conformanceConfig });
    return { kind: "emulator", connectionString: emulator.connectionString, close: () => emulator.close() };
  },
};

const MICROSOFT_IMAGE = "mcr.microsoft.com/azure-messaging/eventhubs-emulator:latest";
const AZURITE_IMAGE = "mcr.microsoft.com/azure-storage/azurite:latest";

export const microsoftEmulator: TargetDefinition = {
  name: "Microsoft's Event Hubs emulator (Docker)",
  unavailable: async () => {
    try {
      await getContainerRuntimeClient();
      return undefined;
    } catch {
      return "no Docker engine answers";
    }
  },
  start: async () => {
    // Microsoft's emulator keeps its metadata and checkpoints in Azurite, on a private network.
    const network = await new Network().start();
    const azurite = await new GenericContainer(AZURITE_IMAGE)
      .withNetwork(network)
      .withNetworkAliases("azurite")
      .withCommand(["azurite", "--blobHost", "0.0.0.0", "--queueHost", "0.0.0.0", "--tableHost", "0.0.0.0"])
      .start();
    const emulator = await new GenericContainer(MICROSOFT_IMAGE)
      .withNetwork(network)
      .withEnvironment({ BLOB_SERVER: "azurite", METADATA_SERVER: "azurite", ACCEPT_EULA: "Y" })
      .withCopyContentToContainer([
        { content: JSON.stringify(conformanceConfig), target: "/Eventhubs_Emulator/ConfigFiles/Config.json" },
      ])
      .withExposedPorts(5672)
      .withWaitStrategy(Wait.forLogMessage(/Emulator Service is Successfully Up/))
      .withStartupTimeout(180_000)
      .start();
    return {
      kind: "microsoft",
      connectionString: eventHubsConnectionString(emulator.getHost(), emulator.getMappedPort(5672)),
      close: async () => {
        await emulator.stop();
        await azurite.stop();
        await network.stop();
      },
    };
  },
};

export const targets = [projectEmulator, microsoftEmulator];
