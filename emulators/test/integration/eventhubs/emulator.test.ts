/**
 * The in-process API other helpers use (`startEventHubsEmulator`), and what only the project's
 * emulator offers: configurable retention. Over real sockets with the official SDK (a raw AMQP
 * client only where a crashing client is simulated).
 */
import { connect, type Socket } from "node:net";
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  latestEventPosition,
} from "@azure/event-hubs";
import { waitFor } from "@qcs/test-support";
import rhea from "rhea";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningEventHubsEmulator, startEventHubsEmulator } from "../../../src/index.ts";
import { bodies, readPartition } from "../../support/eventhubs/harness.ts";

describe("startEventHubsEmulator", () => {
  const running: RunningEventHubsEmulator[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await Promise.allSettled(running.splice(0).map((emulator) => emulator.close()));
  });
  const start = async (options?: Parameters<typeof startEventHubsEmulator>[0]) => {
    const emulator = await startEventHubsEmulator(options);
    running.push(emulator);
    return emulator;
  };

  it("serves the project's hub on a free loopback port with Microsoft's emulator connection string", async () => {
    const emulator = await start();
    expect(emulator.host).toBe("127.0.0.1");
    expect(emulator.port).toBeGreaterThan(0);
    expect(emulator.connectionString).toBe(
      `Endpoint=sb://127.0.0.1:${emulator.port};SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`,
    );
    const producer = new EventHubProducerClient(emulator.connectionString, "activity-log");
    clients.push(producer);
    expect((await producer.getEventHubProperties()).partitionIds).toEqual(["0", "1", "2", "3"]);
    await producer.sendBatch([{ body: { operationName: "Microsoft.App/containerApps/write" } }], {
      partitionId: "3",
    });
    const consumer = new EventHubConsumerClient("ingest", emulator.connectionString, "activity-log");
    clients.push(consumer);
    const reader = readPartition(consumer, "3", { startPosition: earliestEventPosition });
    await reader.received(1);
    await reader.close();
    expect(bodies(reader.events)).toEqual([{ operationName: "Microsoft.App/containerApps/write" }]);
  });

  it("refuses an invalid configuration before listening, naming the field", async () => {
    await expect(
      start({
        config: {
          UserConfig: {
            NamespaceConfig: [
              { Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "h", PartitionCount: "0" }] },
            ],
            LoggingConfig: { Type: "File" },
          },
        },
      }),
    ).rejects.toThrow(/UserConfig\.NamespaceConfig\[0\]\.Entities\[0\]\.PartitionCount/);
  });

  it("keeps only what retention allows: older events are dropped, numbering goes on", async () => {
    const emulator = await start({ retention: { maxEvents: 3 } });
    const producer = new EventHubProducerClient(emulator.connectionString, "activity-log");
    clients.push(producer);
    for (let i = 0; i < 10; i += 1) await producer.sendBatch([{ body: `r${i}` }], { partitionId: "0" });
    expect(await producer.getPartitionProperties("0")).toMatchObject({
      beginningSequenceNumber: 7,
      lastEnqueuedSequenceNumber: 9,
    });
    const consumer = new EventHubConsumerClient("$Default", emulator.connectionString, "activity-log");
    clients.push(consumer);
    const reader = readPartition(consumer, "0", { startPosition: earliestEventPosition });
    await reader.received(3);
    await reader.idle();
    await reader.close();
    expect(bodies(reader.events)).toEqual(["r7", "r8", "r9"]);
  });

  it("releases a partition when its owner's connection drops without closing", async () => {
    const emulator = await start();
    // A raw AMQP client stands in for a consumer process that dies: it attaches with owner level 9,
    // then its socket is destroyed without any detach or close frame.
    const connection = rhea
      .create_container()
      .connect({ host: emulator.host, port: emulator.port, reconnect: false });
    connection.on("error", () => {});
    connection.on("disconnected", () => {});
    const attached = new Promise<void>((resolve) => connection.once("receiver_open", () => resolve()));
    connection.open_receiver({
      source: { address: "activity-log/ConsumerGroups/$Default/Partitions/0" },
      properties: { "com.microsoft:epoch": rhea.types.wrap_long(9) },
    });
    await attached;
    (connection as unknown as { socket: Socket }).socket.destroy();

    const consumer = new EventHubConsumerClient("$Default", emulator.connectionString, "activity-log");
    clients.push(consumer);
    const reader = readPartition(consumer, "0", { startPosition: latestEventPosition, ownerLevel: 1 });
    await reader.idle();
    const producer = new EventHubProducerClient(emulator.connectionString, "activity-log");
    clients.push(producer);
    await producer.sendBatch([{ body: "after the crash" }], { partitionId: "0" });
    await waitFor(() => reader.events.length > 0, "the new owner's event");
    await reader.close();
    expect(reader.errors).toEqual([]);
    expect(bodies(reader.events)).toEqual(["after the crash"]);
  });

  it("stops listening when closed", async () => {
    const emulator = await start();
    await emulator.close();
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: emulator.host, port: emulator.port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.once("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
