/**
 * The shared AMQP layer against the official SDKs over real sockets, with a minimal FIFO service
 * plugged in (the Service Bus and Event Hubs emulators plug in the same way). Hand-made frames only
 * in the robustness tests.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { EventHubProducerClient } from "@azure/event-hubs";
import { isServiceBusError, ServiceBusClient } from "@azure/service-bus";
import { waitFor } from "@qcs/test-support";
import rhea, { type Message } from "rhea";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { longArray } from "../../../src/amqp/codec.ts";
import { AmqpError, Condition } from "../../../src/amqp/errors.ts";
import {
  type AmqpService,
  entityPath,
  type ManagementRequest,
  type OutboundLink,
  type RunningAmqpServer,
  startAmqpServer,
} from "../../../src/amqp/server.ts";

/** The SDK sends JSON bodies as one data section; this reads them back. */
function bodyOf(message: Message | undefined): unknown {
  const body = message?.body as { typecode?: number; content?: Buffer } | undefined;
  return body?.typecode === 0x75 && body.content ? JSON.parse(body.content.toString()) : body;
}

/** One FIFO per known entity; presettled or not as the client asks; remembers every disposition. */
function fifoService(entities: string[]) {
  const queues = new Map(entities.map((name) => [name, [] as Message[]]));
  const links = new Set<{ link: OutboundLink; pump(): void }>();
  const dispositions: string[] = [];
  const requests: ManagementRequest[] = [];
  const closedLinks: string[] = [];
  let loseLocks = false;
  const queueOf = (path: string) => {
    const queue = queues.get(path.split("/")[0] ?? "");
    if (!queue) throw new AmqpError(Condition.notFound, `The messaging entity '${path}' could not be found.`);
    return queue;
  };
  const service: AmqpService = {
    owns: (path) => !path.startsWith("eh"),
    authorize: (path) => void queueOf(path),
    manage: (request) => {
      requests.push(request);
      if (request.operation === "com.microsoft:peek-message") {
        const queue = queueOf(request.address);
        if (queue.length === 0) return { statusCode: 204 };
        return {
          body: { messages: queue.map((m) => ({ message: rhea.message.encode(m) })) },
        };
      }
      throw new AmqpError(Condition.notImplemented, `no ${request.operation}`);
    },
    openInbound: (link) => {
      const queue = queueOf(link.address);
      return {
        onMessages: (messages) => {
          if (messages.some((m) => bodyOf(m) === "reject me")) {
            throw new AmqpError(Condition.notAllowed, "refused by the test service");
          }
          queue.push(...messages);
          for (const entry of links) entry.pump();
        },
      };
    },
    openOutbound: (link) => {
      const queue = queueOf(link.address);
      const entry = {
        link,
        pump: () => {
          while (link.credit() > 0 && queue.length > 0) {
            const next = queue.shift() as Message;
            const annotations = {
              "x-opt-sequence-number": 1,
              "x-opt-locked-until": new Date(Date.now() + 60_000),
            };
            link.send(
              { ...next, message_id: "id", message_annotations: annotations } as Message,
              randomBytes(16),
            );
          }
        },
      };
      links.add(entry);
      return {
        onCredit: entry.pump,
        onDisposition: (_delivery, state) => {
          const kind = (state as { constructor: { composite_type: string } }).constructor.composite_type;
          dispositions.push(kind);
          if (loseLocks) throw new AmqpError(Condition.messageLockLost, "The lock is gone.");
          return state;
        },
        onClose: () => {
          links.delete(entry);
          closedLinks.push(link.address);
        },
      };
    },
  };
  return {
    service,
    queues,
    dispositions,
    requests,
    closedLinks,
    openLinks: () => links.size,
    loseLocks: (value: boolean) => {
      loseLocks = value;
    },
  };
}

/** Answers Event Hubs' `$management` READ for one hub: plugged into the same server. */
const eventHubsLikeService: AmqpService = {
  owns: (path) => path.startsWith("eh") || path === "$management",
  authorize: () => {},
  manage: (request) => {
    expect(request.operation).toBe("READ");
    return {
      body: {
        name: request.properties.name,
        created_at: new Date(0),
        partition_count: 1,
        partition_ids: rhea.types.wrap_array(["0"], 0xa1, undefined),
      },
    };
  },
  openInbound: () => ({ onMessages: () => {} }),
  openOutbound: () => ({ onCredit: () => {} }),
};

const connectionString = (server: RunningAmqpServer, entity = "") =>
  `Endpoint=sb://127.0.0.1:${server.port};SharedAccessKeyName=RootManageSharedAccessKey;` +
  `SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;${entity ? `EntityPath=${entity};` : ""}`;

describe("shared AMQP server", () => {
  let fifo: ReturnType<typeof fifoService>;
  let server: RunningAmqpServer;
  let client: ServiceBusClient;
  const problems: Error[] = [];

  beforeAll(async () => {
    fifo = fifoService(["q1", "q2", "q3", "q4"]);
    server = await startAmqpServer({
      services: [eventHubsLikeService, fifo.service],
      maxMessageSize: 256 * 1024,
      onError: (error) => problems.push(error),
    });
    client = new ServiceBusClient(connectionString(server));
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it("listens on a free loopback port when given port 0", () => {
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
  });

  it("strips scheme and host from addresses and audiences", () => {
    expect(entityPath("sb://127.0.0.1:5672/q1/$management")).toBe("q1/$management");
    expect(entityPath("amqps://ns.servicebus.windows.net/t/Subscriptions/s")).toBe("t/Subscriptions/s");
    expect(entityPath("q1")).toBe("q1");
    expect(entityPath(undefined)).toBe("");
  });

  it("takes single and batched sends after CBS, advertising max_message_size to createMessageBatch", async () => {
    const sender = client.createSender("q1");
    await sender.sendMessages({ body: "one", messageId: "m1", applicationProperties: { k: "v" } });
    const batch = await sender.createMessageBatch();
    expect(batch.maxSizeInBytes).toBe(256 * 1024);
    expect(batch.tryAddMessage({ body: { n: 2 } })).toBe(true);
    expect(batch.tryAddMessage({ body: { n: 3 } })).toBe(true);
    await sender.sendMessages(batch);
    await sender.sendMessages([{ body: "four" }, { body: "five" }]);
    await sender.close();
    const stored = fifo.queues.get("q1") ?? [];
    expect(stored.map(bodyOf)).toEqual(["one", { n: 2 }, { n: 3 }, "four", "five"]);
    expect(stored[0]?.message_id).toBe("m1");
    expect(stored[0]?.application_properties).toEqual({ k: "v" });
  });

  it("rejects a delivery with the service's error, which the sender raises", async () => {
    const sender = client.createSender("q2");
    const error = await sender.sendMessages({ body: "reject me" }).catch((e: unknown) => e);
    await sender.close();
    expect(String((error as Error).message)).toContain("refused by the test service");
  });

  it("refuses an unknown entity with amqp:not-found, raised as MessagingEntityNotFound", async () => {
    const sender = client.createSender("no-such-queue");
    const error = await sender.sendMessages({ body: "x" }).catch((e: unknown) => e);
    await sender.close();
    expect(isServiceBusError(error) && error.code).toBe("MessagingEntityNotFound");
  });

  it("routes $management replies to the link named by reply_to, in both status spellings", async () => {
    const receiver = client.createReceiver("q2");
    fifo.queues.set("q2", []);
    expect(await receiver.peekMessages(5)).toEqual([]); // 204: the SDK reads statusCode (camelCase)
    fifo.queues
      .get("q2")
      ?.push({ body: "peeked", message_annotations: { "x-opt-sequence-number": 7 } } as Message);
    const peeked = await receiver.peekMessages(5);
    await receiver.close();
    expect(peeked.map((m) => [m.body, m.sequenceNumber?.toNumber()])).toEqual([["peeked", 7]]);
    expect(fifo.requests.at(-1)?.address).toBe("q2/$management");
  });

  it("serves a second service's $management READ on the same server (Event Hubs)", async () => {
    const producer = new EventHubProducerClient(connectionString(server), "eh1");
    const properties = await producer.getEventHubProperties();
    await producer.close();
    expect(properties).toMatchObject({ name: "eh1", partitionIds: ["0"] });
  });

  it("returns from receiveMessages with maxWaitTimeInMs when nothing arrives (drain answered)", async () => {
    const receiver = client.createReceiver("q3", { receiveMode: "receiveAndDelete" });
    const none = await receiver.receiveMessages(3, { maxWaitTimeInMs: 300 });
    fifo.queues.get("q3")?.push({ body: "late" } as Message);
    const some = await receiver.receiveMessages(3, { maxWaitTimeInMs: 300 });
    const again = await receiver.receiveMessages(3, { maxWaitTimeInMs: 300 });
    await receiver.close();
    expect(none).toEqual([]);
    expect(some.map((m) => m.body)).toEqual(["late"]);
    expect(again).toEqual([]);
  });

  it("answers a drain that arrives after the last credit was used (rhea alone would stay silent)", async () => {
    fifo.queues.get("q3")?.push({ body: "only" } as Message);
    const connection = rhea
      .create_container()
      .connect({ host: "127.0.0.1", port: server.port, reconnect: false });
    const receiver = connection.open_receiver({
      source: { address: "q3" },
      credit_window: 0,
      autoaccept: true,
    });
    await new Promise<void>((resolve) => {
      receiver.once("receiver_open", () => {
        receiver.add_credit(1);
        resolve();
      });
    });
    await new Promise<void>((resolve) => receiver.once("message", () => resolve()));
    const drained = new Promise<void>((resolve) => receiver.once("receiver_drained", () => resolve()));
    receiver.drain_credit();
    await drained;
    connection.close();
    expect((receiver as unknown as { credit: number }).credit).toBe(0);
  });

  it("hands peek-lock dispositions to the service and settles them with its answer", async () => {
    const sender = client.createSender("q4");
    await sender.sendMessages([{ body: "a" }, { body: "b" }]);
    const receiver = client.createReceiver("q4");
    const [a, b] = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 });
    expect(a?.lockToken).toMatch(/^[0-9a-f-]{36}$/);
    await receiver.completeMessage(a as never);
    fifo.loseLocks(true);
    const error = await receiver.abandonMessage(b as never).catch((e: unknown) => e);
    fifo.loseLocks(false);
    await receiver.close();
    await sender.close();
    expect(fifo.dispositions.slice(-2)).toEqual(["accepted", "modified"]);
    expect(isServiceBusError(error) && error.code).toBe("MessageLockLost");
  });

  it("keeps delivering on one peek-lock link past the session window of 2048 deliveries", async () => {
    const total = 2100;
    const sender = client.createSender("q4");
    for (let n = 0; n < total; n += 300) {
      await sender.sendMessages(
        Array.from({ length: Math.min(300, total - n) }, (_, k) => ({ body: n + k })),
      );
    }
    await sender.close();
    const receiver = client.createReceiver("q4", { maxAutoLockRenewalDurationInMs: 0 });
    let completed = 0;
    while (completed < total) {
      const messages = await receiver.receiveMessages(300, { maxWaitTimeInMs: 2000 });
      if (messages.length === 0) break;
      await Promise.all(messages.map((message) => receiver.completeMessage(message)));
      completed += messages.length;
    }
    await receiver.close();
    expect(completed).toBe(total);
  }, 60_000);

  it("encodes long arrays with the long typecode", () => {
    const encoded = rhea.message.encode({ body: longArray([1, 2]) } as Message);
    expect(encoded.includes(Buffer.from([0x81, 0, 0, 0, 0, 0, 0, 0, 1]))).toBe(true);
  });

  describe("robustness", () => {
    const sockets: Socket[] = [];
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.destroy();
    });

    const openSocket = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(server.port, "127.0.0.1", () => resolve(socket));
        socket.resume(); // read to the end, so the server closing the connection is seen
        socket.on("error", reject);
        sockets.push(socket);
      });
    const closedByServer = (socket: Socket) =>
      new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const amqpHeader = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);

    it("closes a connection that sends garbage after the protocol header, and keeps serving", async () => {
      const socket = await openSocket();
      socket.write(
        Buffer.concat([amqpHeader, Buffer.from([0, 0, 0, 12, 2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])]),
      );
      await closedByServer(socket);
      const sender = client.createSender("q1");
      await sender.sendMessages({ body: "still alive" });
      await sender.close();
      expect(bodyOf(fifo.queues.get("q1")?.at(-1))).toBe("still alive");
    });

    it("closes a connection with an unknown protocol header", async () => {
      const socket = await openSocket();
      socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
      await closedByServer(socket);
      expect(socket.destroyed).toBe(true);
    });

    it("closes a connection that declares a frame larger than the advertised maximum", async () => {
      const socket = await openSocket();
      const huge = Buffer.alloc(8);
      huge.writeUInt32BE(0xfffffff0, 0);
      socket.write(Buffer.concat([amqpHeader, huge]));
      await closedByServer(socket);
      expect(problems.some((p) => p.message.includes("frame"))).toBe(true);
    });

    it("closes the link handlers of a client that vanishes mid-conversation", async () => {
      const before = fifo.closedLinks.length;
      const openBefore = fifo.openLinks();
      const connectionsBefore = server.connectionCount();
      const connection = rhea
        .create_container()
        .connect({ host: "127.0.0.1", port: server.port, reconnect: false });
      await new Promise<void>((resolve) => {
        connection.open_receiver({ source: { address: "q3" }, credit_window: 10 });
        connection.once("receiver_open", () => resolve());
      });
      expect(fifo.openLinks()).toBe(openBefore + 1);
      (connection as unknown as { socket: Socket }).socket.destroy();
      await waitFor(() => fifo.closedLinks.length > before, "fifo.closedLinks.length > before");
      expect(fifo.openLinks()).toBe(openBefore);
      await waitFor(
        () => server.connectionCount() === connectionsBefore,
        "server.connectionCount() === connectionsBefore",
      );
      expect(server.connectionCount()).toBe(connectionsBefore);
    });

    it("accepts the MSSBCBS SASL mechanism the .NET and Java SDKs offer", async () => {
      const container = rhea.create_container();
      const mechanism = {
        start: (callback: (error: unknown, response: Buffer) => void) => callback(undefined, Buffer.alloc(0)),
      };
      const connection = container.connect({
        host: "127.0.0.1",
        port: server.port,
        reconnect: false,
        sasl_mechanisms: { MSSBCBS: () => mechanism },
      } as never);
      await new Promise<void>((resolve, reject) => {
        connection.once("connection_open", () => resolve());
        connection.once("disconnected", (context) => reject(context.error ?? new Error("disconnected")));
      });
      connection.close();
      expect(connection.is_open()).toBe(false);
    });
  });
});

describe("closing the server", () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
  });

  it("leaves no timer behind that holds the process open after clients closed their connections", async () => {
    const emulator = new URL("../../../src/servicebus/emulator.ts", import.meta.url).pathname;
    const script = [
      'import { ServiceBusClient } from "@azure/service-bus";',
      `import { startServiceBusEmulator } from ${JSON.stringify(emulator)};`,
      "const running = await startServiceBusEmulator({ port: 0 });",
      "const client = new ServiceBusClient(running.connectionString, { retryOptions: { maxRetries: 0 } });",
      'await client.createSender("scan-requests").sendMessages({ body: "x" });',
      "await client.close();",
      "await running.close();",
      'console.log("closed");',
    ].join("\n");
    const scriptProcess = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: new URL("../../..", import.meta.url).pathname,
      stdio: ["ignore", "pipe", "inherit"],
    });
    child = scriptProcess;
    let output = "";
    scriptProcess.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    // rhea's idle timer used to keep the process alive for minutes after close().
    const code = await new Promise<number | null>((resolve) => scriptProcess.once("exit", resolve));
    expect({ code, output: output.trim() }).toEqual({ code: 0, output: "closed" });
  });
});
