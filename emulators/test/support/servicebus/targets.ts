/**
 * Where the conformance suite runs: this repository's broker (always), and Microsoft's Service Bus
 * emulator through testcontainers when a Docker engine answers. Both get the same entities; only
 * the durations differ, because Azure (and so Microsoft's emulator) has minimums this broker waives.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AzureServiceBusContainer } from "@testcontainers/azureservicebus";
import { getContainerRuntimeClient } from "testcontainers";
import type { ServiceBusEmulatorConfig, ServiceBusRuleConfig } from "../../../src/servicebus/config.ts";
import { startServiceBusEmulator } from "../../../src/servicebus/emulator.ts";

export interface ServiceBusTarget {
  connectionString: string;
  /** Lock duration of every queue and subscription, in ms. */
  lockMs: number;
  /** Duplicate-detection window of the `dedup` queue, in ms. */
  duplicateWindowMs: number;
  close(): Promise<void>;
}

export interface TargetKind {
  name: string;
  /** Why it cannot run here, or undefined. */
  unavailable(): Promise<string | undefined>;
  start(): Promise<ServiceBusTarget>;
}

export const broker: TargetKind = {
  name: "this repository's broker",
  unavailable: async () => undefined,
  async start() {
    const running = await startServiceBusEmulator({
      config: conformanceConfig({ lockMs: 2000, duplicateWindowMs: 2000 }),
    });
    return {
      connectionString: running.connectionString,
      lockMs: 2000,
      duplicateWindowMs: 2000,
      close: running.close,
    };
  },
};

/** The same broker keeping its state in a data directory: the journal must not change behaviour. */
export const durableBroker: TargetKind = {
  name: "this repository's broker with --data-dir",
  unavailable: async () => undefined,
  async start() {
    const dataDir = await mkdtemp(join(tmpdir(), "servicebus-conformance-"));
    const running = await startServiceBusEmulator({
      config: conformanceConfig({ lockMs: 2000, duplicateWindowMs: 2000 }),
      dataDir,
    });
    return {
      connectionString: running.connectionString,
      lockMs: 2000,
      duplicateWindowMs: 2000,
      close: async () => {
        await running.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },
};

export const microsoftEmulator: TargetKind = {
  name: "Microsoft's Service Bus emulator",
  async unavailable() {
    try {
      await getContainerRuntimeClient();
      return undefined;
    } catch {
      return "no Docker engine answers";
    }
  },
  async start() {
    // Azure's minimums: 5 s locks, 20 s duplicate-detection windows.
    const timings = { lockMs: 5000, duplicateWindowMs: 20_000 };
    const container = await new AzureServiceBusContainer(
      "mcr.microsoft.com/azure-messaging/servicebus-emulator:latest",
    )
      .acceptLicense()
      .withConfig(JSON.stringify(conformanceConfig(timings)))
      .start();
    return {
      connectionString: container.getConnectionString(),
      ...timings,
      close: async () => void (await container.stop()),
    };
  },
};

/** Queues, one per behaviour so tests never see each other's messages. */
export const QUEUES = [
  "properties",
  "batches",
  "receive-and-delete",
  "settle",
  "dead-letter",
  "defer",
  "lock-expiry",
  "renew-lock",
  "max-delivery",
  "ttl-dead-letter",
  "ttl-drop",
  "dedup",
  "schedule",
  "peek",
  "drain",
  "stream",
  "concurrent",
] as const;

export function conformanceConfig(timings: {
  lockMs: number;
  duplicateWindowMs: number;
}): ServiceBusEmulatorConfig {
  const lock = `PT${timings.lockMs / 1000}S`;
  const queue = (name: string) => ({
    Name: name,
    Properties: {
      DeadLetteringOnMessageExpiration: name === "ttl-dead-letter",
      DefaultMessageTimeToLive: "PT1H",
      DuplicateDetectionHistoryTimeWindow: `PT${timings.duplicateWindowMs / 1000}S`,
      ForwardDeadLetteredMessagesTo: "",
      ForwardTo: "",
      LockDuration: lock,
      MaxDeliveryCount: name === "max-delivery" ? 2 : 5,
      RequiresDuplicateDetection: name === "dedup",
      RequiresSession: false,
    },
  });
  const subscription = (name: string, rules: ServiceBusRuleConfig[] = []) => ({
    Name: name,
    Properties: {
      DeadLetteringOnMessageExpiration: false,
      DefaultMessageTimeToLive: "PT1H",
      ForwardDeadLetteredMessagesTo: "",
      ForwardTo: "",
      LockDuration: lock,
      MaxDeliveryCount: 5,
      RequiresSession: false,
    },
    Rules: rules,
  });
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Queues: QUEUES.map(queue),
          Topics: [
            {
              Name: "events",
              Properties: {
                DefaultMessageTimeToLive: "PT1H",
                DuplicateDetectionHistoryTimeWindow: "PT20S",
                RequiresDuplicateDetection: false,
              },
              Subscriptions: [
                subscription("all"),
                subscription("by-subject", [
                  {
                    Name: "subject",
                    Properties: { FilterType: "Correlation", CorrelationFilter: { Label: "ScanCompleted" } },
                  },
                ]),
                subscription("by-property", [
                  {
                    Name: "registry",
                    Properties: {
                      FilterType: "Correlation",
                      CorrelationFilter: { Properties: { registry: "ghcr.io" } },
                    },
                  },
                ]),
                subscription("nothing", [
                  { Name: "none", Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=0" } } },
                ]),
              ],
            },
          ],
        },
      ],
      Logging: { Type: "Console" },
    },
  };
}
