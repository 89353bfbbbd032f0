#!/usr/bin/env node
// Service Bus broker: start-up time, send and receive+complete throughput with the official SDK
// (1 and 16 concurrent receivers), and the broker's memory holding 100,000 messages. The broker
// runs as `npm run emulators` in its own process (loopback only), so its memory is its own and the
// client does not share its event loop. Bounded in count; prints numbers, asserts nothing.
import { readFileSync } from "node:fs";
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
  writeBenchConfig,
} from "./support/serviceBusLoad.ts";

const SENDS = Number(process.env.BENCH_SB_SENDS ?? 20_000);
const RECEIVES = Number(process.env.BENCH_SB_RECEIVES ?? 4000);
const HELD = Number(process.env.BENCH_SB_HELD ?? 100_000);

/** CPU time (user + system) a process has used, in ms: unlike wall time, independent of other load. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

// In-process start-up: configuration read and validated, AMQP listener bound.
const inProcess: number[] = [];
for (let run = 0; run < 5; run++) {
  const started = performance.now();
  const running = await startServiceBusEmulator();
  inProcess.push(performance.now() - started);
  await running.close();
}
console.log(`start-up, in process (startServiceBusEmulator): ${median(inProcess).toFixed(1)} ms median of 5`);

const configFile = writeBenchConfig(join(tmpdir(), `servicebus-bench-${process.pid}.json`), {});
const broker = await startBrokerProcess(configFile);
const readyCpuMs = cpuMs(broker.child.pid as number);
console.log(
  `start-up, npm run emulators (process spawn to the printed connection string): ${broker.readyMs.toFixed(0)} ms ` +
    `wall, ${readyCpuMs.toFixed(0)} ms of broker CPU`,
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
