// Everything ingest talks to, on loopback: Event Hubs and Service Bus emulators, Azurite, local ARM.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import {
  type RunningArmEmulator,
  type RunningAzurite,
  type RunningEventHubsEmulator,
  type RunningServiceBusEmulator,
  startEventHubsEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { parseScanRequestedMessage, type ScanRequested } from "@qcs/shared";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { ARM_TOKEN, startSampleArm } from "./arm.ts";

export interface Stack {
  eventHubs: RunningEventHubsEmulator;
  serviceBus: RunningServiceBusEmulator;
  azurite: RunningAzurite;
  arm: RunningArmEmulator;
  /** Environment for ingest pointing at all of the above. */
  env(overrides?: Record<string, string>): Record<string, string>;
  /** Receives (and deletes) scan requests until `count` arrived or nothing comes for `idleMs`. */
  receive(
    count: number,
    idleMs?: number,
  ): Promise<{ message: ServiceBusReceivedMessage; body: ScanRequested }[]>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const [eventHubs, serviceBus, azurite, arm] = await Promise.all([
    startEventHubsEmulator(),
    startServiceBusEmulator(),
    sharedAzurite(),
    startSampleArm(),
  ]);
  const dir = await mkdtemp(join(tmpdir(), "qcs-ingest-"));
  const caFile = join(dir, "arm-ca.pem");
  await writeFile(caFile, arm.ca);
  const client = new ServiceBusClient(serviceBus.connectionString);
  const receiver = client.createReceiver("scan-requests", { receiveMode: "receiveAndDelete" });
  return {
    eventHubs,
    serviceBus,
    azurite,
    arm,
    env: (overrides = {}) => ({
      EVENTHUBS_CONNECTION_STRING: eventHubs.connectionString,
      SERVICEBUS_CONNECTION_STRING: serviceBus.connectionString,
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      ARM_ENDPOINT: arm.url,
      ARM_TOKEN,
      ARM_CA_FILE: caFile,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
      SHUTDOWN_GRACE_SECONDS: "10",
      ...overrides,
    }),
    receive: async (count, idleMs = 5000) => {
      const received: { message: ServiceBusReceivedMessage; body: ScanRequested }[] = [];
      while (received.length < count) {
        const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs: idleMs });
        if (batch.length === 0) break;
        for (const message of batch) received.push({ message, body: parseScanRequestedMessage(message) });
      }
      return received;
    },
    stop: async () => {
      await client.close();
      await Promise.allSettled([eventHubs.close(), serviceBus.close(), azurite.stop(), arm.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
