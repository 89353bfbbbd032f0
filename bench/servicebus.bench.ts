#!/usr/bin/env node
// Service Bus broker: start-up time, send and receive+complete throughput with the official SDK
// (1 and 16 concurrent receivers), and the broker's memory holding 100,000 messages. The broker
// runs as `npm run emulators` in its own process (loopback only), so its memory is its own and the
// client does not share its event loop. Bounded in count; prints numbers, asserts nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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

/** A ScanRequested-sized message (about 700 bytes of JSON). */
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
  const queue = (name: string) => ({
    Name: name,
    Properties: { LockDuration: "PT1M", MaxDeliveryCount: 10, DefaultMessageTimeToLive: "P1D" },
  });
  const file = join(tmpdir(), `servicebus-bench-${process.pid}.json`);
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
): Promise<{ child: ChildProcess; connectionString: string; readyMs: number; readyCpuMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [bin, "--servicebus-port", "0", "--servicebus-config", configFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  const readyCpuMs = cpuMs(child.pid as number);
  return {
    child,
    connectionString: line.replace(/^servicebus: /, ""),
    readyMs: performance.now() - started,
    readyCpuMs,
  };
}

/** CPU time (user + system) a process has used, in ms: unlike wall time, independent of other load. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function sendAll(client: ServiceBusClient, queue: string, count: number): Promise<void> {
  const sender = client.createSender(queue);
  let batch = await sender.createMessageBatch();
  for (let n = 0; n < count; n++) {
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rate = (value: number) => `${Math.round(value).toLocaleString("en")} messages/s`;

// In-process start-up: configuration read and validated, AMQP listener bound.
const inProcess: number[] = [];
for (let run = 0; run < 5; run++) {
  const started = performance.now();
  const running = await startServiceBusEmulator();
  inProcess.push(performance.now() - started);
  await running.close();
}
console.log(`start-up, in process (startServiceBusEmulator): ${median(inProcess).toFixed(1)} ms median of 5`);

const configFile = config();
const broker = await startBroker(configFile);
console.log(
  `start-up, npm run emulators (process spawn to the printed connection string): ${broker.readyMs.toFixed(0)} ms ` +
    `wall, ${broker.readyCpuMs.toFixed(0)} ms of broker CPU`,
);
const pid = broker.child.pid as number;
const client = new ServiceBusClient(broker.connectionString);

/** Runs a phase; prints client-observed messages/s and the broker's CPU per message. */
async function phase(label: string, count: number, run: () => Promise<unknown>): Promise<void> {
  const cpuBefore = cpuMs(pid);
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const brokerUs = ((cpuMs(pid) - cpuBefore) * 1000) / count;
  console.log(`${label}: ${rate(count / seconds)} (broker CPU ${brokerUs.toFixed(0)} µs per message)`);
}

try {
  await phase("send, batched (createMessageBatch, ~700-byte messages)", SENDS, () =>
    sendAll(client, "send", SENDS),
  );
  const sender = client.createSender("send");
  const single = Math.min(SENDS, 4000);
  await phase("send, one message per call (8 in flight)", single, async () => {
    for (let n = 0; n < single; n += 8) {
      await Promise.all(Array.from({ length: 8 }, (_, k) => sender.sendMessages(scanRequest(n + k))));
    }
  });
  await sender.close();
  await sendAll(client, "receive-1", RECEIVES);
  await phase("receive + complete, 1 receiver", RECEIVES, () =>
    receiveAndComplete(broker.connectionString, "receive-1", RECEIVES, 1),
  );
  await sendAll(client, "receive-16", RECEIVES);
  await phase("receive + complete, 16 concurrent receivers", RECEIVES, () =>
    receiveAndComplete(broker.connectionString, "receive-16", RECEIVES, 16),
  );

  const before = rssMiB(pid);
  await sendAll(client, "held", HELD);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = rssMiB(pid);
  console.log(
    `broker memory holding ${HELD.toLocaleString("en")} messages (~700 bytes each): RSS ${after.toFixed(0)} MiB ` +
      `(${(after - before).toFixed(0)} MiB above the ${before.toFixed(0)} MiB it used before, ` +
      `${(((after - before) * 1024 * 1024) / HELD).toFixed(0)} bytes per message)`,
  );
} finally {
  await client.close();
  broker.child.kill("SIGTERM");
}
