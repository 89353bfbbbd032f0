/**
 * Clients that misbehave: malformed frames, connections cut while holding locks, receivers that
 * never settle. Hand-made frames and a bare rhea client appear only here; the official SDK checks
 * that nothing was lost and the broker still serves.
 */
import { connect } from "node:net";
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { waitFor } from "@qcs/test-support";
import rhea, { type Connection } from "rhea";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAmqpServer, startAmqpServer } from "../../../src/amqp/server.ts";
import { parseServiceBusConfig } from "../../../src/servicebus/config.ts";
import { serviceBusConnectionString } from "../../../src/servicebus/emulator.ts";
import { ServiceBusNamespace } from "../../../src/servicebus/namespace.ts";

const LOCK_MS = 1500;

/** A bare AMQP client that takes `credit` messages in peek-lock mode and never settles them. */
async function hoardingClient(
  port: number,
  queue: string,
  credit: number,
): Promise<{ connection: Connection; received: number }> {
  const connection = rhea.create_container().connect({ host: "127.0.0.1", port, reconnect: false });
  connection.on("disconnected", () => {});
  connection.on("error", () => {});
  const state = { connection, received: 0 };
  const receiver = connection.open_receiver({
    source: { address: queue },
    credit_window: 0,
    autoaccept: false,
    rcv_settle_mode: 1,
    snd_settle_mode: 0,
  });
  receiver.on("message", () => {
    state.received += 1;
  });
  await new Promise<void>((resolve) => receiver.once("receiver_open", () => resolve()));
  receiver.add_credit(credit);
  await waitFor(() => state.received === credit, "state.received === credit");
  return state;
}

describe("Service Bus broker robustness", () => {
  let namespace: ServiceBusNamespace;
  let server: RunningAmqpServer;
  let client: ServiceBusClient;
  const problems: Error[] = [];

  beforeAll(async () => {
    const queue = (name: string) => ({
      Name: name,
      Properties: { LockDuration: "PT1.5S", MaxDeliveryCount: 5 },
    });
    namespace = new ServiceBusNamespace(
      parseServiceBusConfig({
        UserConfig: {
          Namespaces: [{ Name: "sbemulatorns", Queues: [queue("cut"), queue("hoard"), queue("garbage")] }],
        },
      }),
    );
    server = await startAmqpServer({ services: [namespace], onError: (error) => problems.push(error) });
    client = new ServiceBusClient(serviceBusConnectionString(server.host, server.port));
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    namespace?.close();
  });

  it("returns the messages of a connection cut while holding their locks, with the delivery count raised", async () => {
    const sender = client.createSender("cut");
    await sender.sendMessages([{ body: "a" }, { body: "b" }]);
    await sender.close();
    const rude = await hoardingClient(server.port, "cut", 2);
    (rude.connection as unknown as { socket: { destroy(): void } }).socket.destroy();
    await waitFor(() => namespace.counts().cut?.receivers === 0, "namespace.counts().cut?.receivers === 0");
    const receiver = client.createReceiver("cut", { maxAutoLockRenewalDurationInMs: 0 });
    const messages: ServiceBusReceivedMessage[] = [];
    const deadline = Date.now() + LOCK_MS * 4;
    while (messages.length < 2 && Date.now() < deadline) {
      messages.push(...(await receiver.receiveMessages(2, { maxWaitTimeInMs: LOCK_MS })));
    }
    expect(messages.map((m) => [m.body, m.deliveryCount])).toEqual([
      ["a", 1],
      ["b", 1],
    ]);
    for (const message of messages) await receiver.completeMessage(message);
    await receiver.close();
    expect(namespace.counts().cut).toEqual({ messages: 0, deadLetters: 0, receivers: 0 });
  });

  it("redelivers what a connected receiver never settles once its locks expire, to other receivers", async () => {
    const sender = client.createSender("hoard");
    await sender.sendMessages([{ body: "x" }, { body: "y" }, { body: "z" }]);
    await sender.close();
    const hoarder = await hoardingClient(server.port, "hoard", 3);
    const receiver = client.createReceiver("hoard", { receiveMode: "receiveAndDelete" });
    const messages: ServiceBusReceivedMessage[] = [];
    const deadline = Date.now() + LOCK_MS * 4;
    while (messages.length < 3 && Date.now() < deadline) {
      messages.push(...(await receiver.receiveMessages(3, { maxWaitTimeInMs: LOCK_MS })));
    }
    expect(messages.map((m) => m.body).sort()).toEqual(["x", "y", "z"]);
    expect(hoarder.received).toBe(3);
    hoarder.connection.close();
    await waitFor(
      () => namespace.counts().hoard?.receivers === 1,
      "namespace.counts().hoard?.receivers === 1",
    );
    await receiver.close();
    expect(namespace.counts().hoard).toEqual({ messages: 0, deadLetters: 0, receivers: 0 });
  });

  it("closes only the connection that sends malformed frames, and keeps every message", async () => {
    const sender = client.createSender("garbage");
    await sender.sendMessages({ body: "kept" });
    const before = server.connectionCount();
    for (const bytes of [
      Buffer.concat([
        Buffer.from("AMQP\x00\x01\x00\x00", "latin1"),
        Buffer.from([0, 0, 0, 12, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
      ]),
      Buffer.from(
        "AMQP\x03\x01\x00\x00\x00\x00\x00\x10\x02\x01\x00\x00\xde\xad\xbe\xef\xde\xad\xbe\xef",
        "latin1",
      ),
      Buffer.from("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "latin1"),
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(server.port, "127.0.0.1", () => socket.write(bytes));
        socket.on("error", () => {});
        socket.resume();
        socket.once("close", () => resolve());
      });
    }
    await waitFor(() => server.connectionCount() === before, "server.connectionCount() === before");
    await sender.sendMessages({ body: "also kept" });
    await sender.close();
    const receiver = client.createReceiver("garbage", { receiveMode: "receiveAndDelete" });
    const messages: ServiceBusReceivedMessage[] = [];
    while (messages.length < 2)
      messages.push(...(await receiver.receiveMessages(2, { maxWaitTimeInMs: 1000 })));
    await receiver.close();
    expect(messages.map((m) => m.body)).toEqual(["kept", "also kept"]);
    expect(server.connectionCount()).toBe(before);
  });
});
