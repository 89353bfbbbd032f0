// What the Service Bus benchmarks share: ScanRequested-sized messages, the broker as a child process
// (`npm run emulators`, so its CPU and memory are its own), batched sends and peek-lock receivers.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ServiceBusClient, type ServiceBusMessage } from "@azure/service-bus";

const bin = fileURLToPath(new URL("../../emulators/src/bin.ts", import.meta.url));

/** A ScanRequested-sized message (about 700 bytes of JSON), with a distinct messageId per `n`. */
export function scanRequest(n: number): ServiceBusMessage {
  const digest = `sha256:${n.toString(16).padStart(64, "0")}`;
  return {
    messageId: digest.slice(7),
    subject: "ScanRequested",
    contentType: "application/json",
    applicationProperties: {
      registry: "myregistry.azurecr.io",
      imageRef: `myregistry.azurecr.io/app@${digest}`,
    },
    body: {
      schemaVersion: 1,
      requestId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`,
      requestedAt: new Date().toISOString(),
      force: false,
      image: {
        ref: `myregistry.azurecr.io/app@${digest}`,
        registry: "myregistry.azurecr.io",
        repository: "app",
        digest,
      },
      sources: [
        {
          kind: "aca",
          resourceId: `/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg/providers/Microsoft.App/containerApps/app-${n % 50}`,
          subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
          resourceGroup: "rg",
          resourceName: `app-${n % 50}`,
          containerName: "main",
        },
      ],
    },
  };
}

/** Writes a Config.json with the benchmarks' queues (send, receive-1, receive-16, held) to `file`. */
export function writeBenchConfig(file: string, queueProperties: Record<string, unknown>): string {
  const queue = (name: string) => ({
    Name: name,
    Properties: {
      LockDuration: "PT1M",
      MaxDeliveryCount: 10,
      DefaultMessageTimeToLive: "P1D",
      ...queueProperties,
    },
  });
  const queues = ["send", "receive-1", "receive-16", "held"].map(queue);
  writeFileSync(
    file,
    JSON.stringify({ UserConfig: { Namespaces: [{ Name: "sbemulatorns", Queues: queues }] } }),
  );
  return file;
}

export interface BrokerProcess {
  child: ChildProcess;
  connectionString: string;
  /** Process spawn to the printed connection string. */
  readyMs: number;
}

/** `npm run emulators` on free ports with `configFile` and any further flags (e.g. `--data-dir`). */
export async function startBrokerProcess(
  configFile: string,
  extraArgs: string[] = [],
): Promise<BrokerProcess> {
  const started = performance.now();
  const args = [bin, "--servicebus-port", "0", "--eventhubs-port", "0", "--servicebus-config", configFile];
  const child = spawn(process.execPath, [...args, ...extraArgs], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).on("line", (text) => {
      if (text.startsWith("servicebus: ")) resolve(text);
    });
    child.once("exit", (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  return { child, connectionString: line.replace(/^servicebus: /, ""), readyMs: performance.now() - started };
}

export async function stopBrokerProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Sends `count` messages numbered from `offset` in batches as large as the broker accepts. */
export async function sendAll(
  client: ServiceBusClient,
  queue: string,
  count: number,
  offset = 0,
): Promise<void> {
  const sender = client.createSender(queue);
  let batch = await sender.createMessageBatch();
  for (let n = offset; n < offset + count; n++) {
    if (!batch.tryAddMessage(scanRequest(n))) {
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      batch.tryAddMessage(scanRequest(n));
    }
  }
  if (batch.count > 0) await sender.sendMessages(batch);
  await sender.close();
}

/** Receives and completes `count` messages with `receivers` peek-lock receivers, one client each. */
export async function receiveAndComplete(
  connectionString: string,
  queue: string,
  count: number,
  receivers: number,
): Promise<void> {
  const clients = Array.from({ length: receivers }, () => new ServiceBusClient(connectionString));
  let done = 0;
  await Promise.all(
    clients.map(async (client) => {
      const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
      while (done < count) {
        const messages = await receiver.receiveMessages(32, { maxWaitTimeInMs: 200 });
        if (messages.length === 0 && done >= count) break;
        await Promise.all(messages.map((message) => receiver.completeMessage(message)));
        done += messages.length;
      }
      await receiver.close();
    }),
  );
  await Promise.all(clients.map((client) => client.close()));
}

export const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
export const rate = (value: number) => `${Math.round(value).toLocaleString("en")} messages/s`;
