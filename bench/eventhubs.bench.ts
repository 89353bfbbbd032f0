#!/usr/bin/env node
/**
 * Event Hubs emulator throughput and latency with the official SDK, on loopback.
 * The emulator runs in a child process (this file with `--serve`) so broker and clients do not
 * share an event loop. Prints numbers, asserts nothing; bounded in count and in time.
 *
 * - throughput: 20 000 events sent in batches of 100 (one send in flight) to the 4-partition hub,
 *   received by one EventHubConsumerClient; send rate and end-to-end rate (first send to last receive).
 * - latency: 2 000 events in batches of 100 paced every 50 ms; per event, receive time minus the
 *   time its batch's send started; p50 / p99.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventHubConsumerClient, EventHubProducerClient, latestEventPosition } from "@azure/event-hubs";
import { startEventHubsEmulator } from "../emulators/src/eventhubs/emulator.ts";

const HUB = "activity-log";
const BATCH = 100;
const THROUGHPUT_EVENTS = 20_000;
const LATENCY_EVENTS = 2_000;
const LATENCY_PACE_MS = 50;
const TIME_LIMIT_MS = 120_000;

if (process.argv[2] === "--serve") {
  const emulator = await startEventHubsEmulator({ port: 0 });
  console.log(emulator.connectionString);
  process.once("SIGTERM", () => void emulator.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const deadline = setTimeout(() => {
    console.error(`eventhubs bench: gave up after ${TIME_LIMIT_MS} ms`);
    child.kill("SIGKILL");
    process.exit(1);
  }, TIME_LIMIT_MS);
  try {
    const connectionString = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    const producer = new EventHubProducerClient(connectionString, HUB);
    const consumer = new EventHubConsumerClient("$Default", connectionString, HUB);
    const received: Array<{ id: number; at: number }> = [];
    const subscription = consumer.subscribe(
      {
        processEvents: async (events) => {
          const at = performance.now();
          for (const event of events) received.push({ id: (event.body as { id: number }).id, at });
        },
        processError: async (error) => console.error("consumer error:", error.message),
      },
      { startPosition: latestEventPosition, maxBatchSize: BATCH, maxWaitTimeInSeconds: 1 },
    );
    // Wait until the consumer is attached to every partition: a probe per partition comes back.
    await waitFor(async () => {
      await Promise.all(
        ["0", "1", "2", "3"].map((partitionId) =>
          producer.sendBatch([{ body: { id: -1 } }], { partitionId }),
        ),
      );
      await sleep(300);
      return received.filter((event) => event.id === -1).length >= 4;
    });
    received.length = 0;

    // Throughput.
    const started = performance.now();
    for (let first = 0; first < THROUGHPUT_EVENTS; first += BATCH) {
      await producer.sendBatch(
        Array.from({ length: BATCH }, (_, i) => ({ body: { id: first + i, pad: "x".repeat(200) } })),
      );
    }
    const sent = performance.now();
    await waitFor(async () => received.length >= THROUGHPUT_EVENTS);
    const done = (received.at(-1)?.at ?? performance.now()) - started;
    console.log(
      `events: ${THROUGHPUT_EVENTS} (~250-byte JSON bodies, batches of ${BATCH}, 4 partitions, one consumer)`,
    );
    console.log(`send rate:        ${Math.round(THROUGHPUT_EVENTS / ((sent - started) / 1000))} events/s`);
    console.log(`send-to-receive:  ${Math.round(THROUGHPUT_EVENTS / (done / 1000))} events/s`);
    received.length = 0;

    // Latency.
    const sentAt = new Map<number, number>();
    for (let first = 0; first < LATENCY_EVENTS; first += BATCH) {
      const at = performance.now();
      const events = Array.from({ length: BATCH }, (_, i) => ({ body: { id: first + i } }));
      for (const event of events) sentAt.set(event.body.id, at);
      await producer.sendBatch(events);
      await sleep(LATENCY_PACE_MS);
    }
    await waitFor(async () => received.length >= LATENCY_EVENTS);
    const latencies = received
      .map((event) => event.at - (sentAt.get(event.id) ?? event.at))
      .sort((a, b) => a - b);
    const percentile = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    console.log(
      `latency (${LATENCY_EVENTS} events, batches of ${BATCH} every ${LATENCY_PACE_MS} ms): p50 ${percentile(50).toFixed(1)} ms, p99 ${percentile(99).toFixed(1)} ms`,
    );

    await subscription.close();
    await consumer.close();
    await producer.close();
  } finally {
    clearTimeout(deadline);
    child.kill("SIGTERM");
  }
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(10);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
