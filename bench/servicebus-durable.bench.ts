#!/usr/bin/env node
// Service Bus broker with --data-dir: send and receive+complete throughput with the official SDK
// (every send and settlement confirmed only once journalled), and the restart time with 100,000
// messages on disk (journal replay, snapshot rewrite, listener bound). The broker runs as
// `npm run emulators` in its own process; loopback only. Bounded in count; prints numbers, asserts nothing.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusEmulator } from "../emulators/src/servicebus/emulator.ts";
import {
  median,
  rate,
  receiveAndComplete,
  scanRequest,
  sendAll,
  startBrokerProcess,
  stopBrokerProcess,
  writeBenchConfig,
} from "./support/serviceBusLoad.ts";

const SENDS = Number(process.env.BENCH_SB_SENDS ?? 20_000);
const RECEIVES = Number(process.env.BENCH_SB_RECEIVES ?? 4000);
const HELD = Number(process.env.BENCH_SB_HELD ?? 100_000);
const dataDir = mkdtempSync(join(tmpdir(), "servicebus-durable-bench-"));
const startBroker = (configFile: string) =>
  startBrokerProcess(configFile, ["--data-dir", join(dataDir, "data")]);

async function phase(label: string, count: number, run: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await run();
  console.log(`${label}: ${rate(count / ((performance.now() - started) / 1000))}`);
}

// Duplicate detection on, as on the project's scan-requests queue: every send also journals its id.
const configFile = writeBenchConfig(join(dataDir, "Config.json"), {
  RequiresDuplicateDetection: true,
  DuplicateDetectionHistoryTimeWindow: "PT1H",
});
try {
  // In-process start-up on an empty data directory: lock, replay (nothing), snapshot written, listener bound.
  const inProcess: number[] = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    const running = await startServiceBusEmulator({ dataDir: join(dataDir, `empty-${run}`) });
    inProcess.push(performance.now() - started);
    await running.close();
  }
  console.log(
    `start-up in process with an empty data dir (startServiceBusEmulator): ${median(inProcess).toFixed(1)} ms median of 5`,
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
  await stopBrokerProcess(empty.child);

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
  await stopBrokerProcess(restarted.child);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
