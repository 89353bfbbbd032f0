#!/usr/bin/env node
// Service Bus broker with --data-dir: send and receive+complete throughput with the official SDK
// (every send and settlement confirmed only once journalled), and the restart time with 100,000
// messages on disk (journal replay, snapshot rewrite, listener bound). The broker runs as
// `npm run emulators` in its own process; loopback only. Bounded in count; prints numbers, asserts nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ServiceBusClient, type ServiceBusMessage } from "@azure/service-bus";
import { startServiceBusEmulator } from "../emulators/src/servicebus/emulator.ts";

const SENDS = Number(process.env.BENCH_SB_SENDS ?? 20_000);
const RECEIVES = Number(process.env.BENCH_SB_RECEIVES ?? 4000);
const HELD = Number(process.env.BENCH_SB_HELD ?? 100_000);
const bin = fileURLToPath(new URL("../emulators/src/bin.ts", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "servicebus-durable-bench-"));

/** A ScanRequested-sized message (about 700 bytes of JSON), as in servicebus.bench.ts. */
function scanRequest(n: number): ServiceBusMessage {
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

function config(): string {
  // Duplicate detection on, as on the project's scan-requests queue: every send also journals its id.
  const queue = (name: string) => ({
    Name: name,
    Properties: {
      LockDuration: "PT1M",
      MaxDeliveryCount: 10,
      DefaultMessageTimeToLive: "P1D",
      RequiresDuplicateDetection: true,
      DuplicateDetectionHistoryTimeWindow: "PT1H",
    },
  });
  const file = join(dataDir, "Config.json");
  writeFileSync(
    file,
    JSON.stringify({
      UserConfig: {
        Namespaces: [
          {
            Name: "sbemulatorns",
            Queues: [queue("send"), queue("receive-1"), queue("receive-16"), queue("held")],
          },
        ],
      },
    }),
  );
  return file;
}

async function startBroker(
  configFile: string,
): Promise<{ child: ChildProcess; connectionString: string; readyMs: number }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      bin,
      "--servicebus-port",
      "0",
      "--eventhubs-port",
      "0",
      "--servicebus-config",
      configFile,
      "--data-dir",
      join(dataDir, "data"),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).on("line", (text) => {
      if (text.startsWith("servicebus: ")) resolve(text);
    });
    child.once("exit", (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  return { child, connectionString: line.replace(/^servicebus: /, ""), readyMs: performance.now() - started };
}

async function stopBroker(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

async function sendAll(client: ServiceBusClient, queue: string, count: number, offset = 0): Promise<void> {
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

async function receiveAndComplete(
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

const rate = (value: number) => `${Math.round(value).toLocaleString("en")} messages/s`;
async function phase(label: string, count: number, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  console.log(`${label}: ${rate(count / ((performance.now() - started) / 1000))}`);
}

const configFile = config();
try {
  // In-process start-up on an empty data directory: lock, replay (nothing), snapshot written, listener bound.
  const inProcess: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const running = await startServiceBusEmulator({ dataDir: join(dataDir, `empty-${run}`) });
    inProcess.push(performance.now() - started);
    await running.close();
  }
  const median = [...inProcess].sort((a, b) => a - b)[2] ?? 0;
  console.log(
    `start-up in process with an empty data dir (startServiceBusEmulator): ${median.toFixed(1)} ms median of 5`,
  );
  const empty = await startBroker(configFile);
  console.log(
    `start-up with an empty data dir (process spawn to the printed connection string): ${empty.readyMs.toFixed(0)} ms`,
  );
  let client = new ServiceBusClient(empty.connectionString);
  await phase("durable send, batched (createMessageBatch, ~700-byte messages)", SENDS, () =>
    sendAll(client, "send", SENDS),
  );
  const sender = client.createSender("send");
  const single = Math.min(SENDS, 4000);
  await phase("durable send, one message per call (8 in flight)", single, async () => {
    for (let n = 0; n < single; n += 8) {
      await Promise.all(Array.from({ length: 8 }, (_, k) => sender.sendMessages(scanRequest(SENDS + n + k))));
    }
  });
  await sender.close();
  await sendAll(client, "receive-1", RECEIVES);
  await phase("durable receive + complete, 1 receiver", RECEIVES, () =>
    receiveAndComplete(empty.connectionString, "receive-1", RECEIVES, 1),
  );
  await sendAll(client, "receive-16", RECEIVES);
  await phase("durable receive + complete, 16 concurrent receivers", RECEIVES, () =>
    receiveAndComplete(empty.connectionString, "receive-16", RECEIVES, 16),
  );
  // Leave HELD messages on disk in all (the send queue already holds SENDS + single of them).
  await sendAll(client, "held", Math.max(0, HELD - SENDS - single), SENDS + single);
  await client.close();
  await stopBroker(empty.child);

  const journal = join(dataDir, "data", "servicebus-sbemulatorns.jsonl");
  const bytes = statSync(journal).size;
  const restarted = await startBroker(configFile);
  console.log(
    `restart with ${HELD.toLocaleString("en")} messages on disk (${(bytes / 1024 / 1024).toFixed(0)} MiB journal; replay, ` +
      `snapshot rewrite, listening): ${restarted.readyMs.toFixed(0)} ms`,
  );
  client = new ServiceBusClient(restarted.connectionString);
  const peeked = await client.createReceiver("held").peekMessages(1);
  console.log(
    `after the restart the first held message is still there: ${peeked.length === 1 ? "yes" : "no"}`,
  );
  await client.close();
  await stopBroker(restarted.child);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
