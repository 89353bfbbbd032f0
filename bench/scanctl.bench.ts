#!/usr/bin/env node
// scanctl against the Service Bus broker: how fast `dlq list` browses and `dlq resubmit` moves dead
// letters back (all of them; then a tenth of them, picked out from among the rest, which are held
// and abandoned). The broker runs as `npm run emulators` in its own process on loopback; scanctl
// runs in this one. Bounded in count; prints numbers, asserts nothing.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ServiceBusClient } from "@azure/service-bus";
import { runScanctl } from "../cli/src/main.ts";

const DEAD_LETTERS = Number(process.env.BENCH_SCANCTL_DEAD_LETTERS ?? 2_000);
const bin = fileURLToPath(new URL("../emulators/src/bin.ts", import.meta.url));

async function startBroker(): Promise<{ child: ChildProcess; connectionString: string }> {
  const child = spawn(process.execPath, [bin, "--servicebus-port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NonNullable<ChildProcess["stdout"]> }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the broker exited with ${code}`)));
  });
  return { child, connectionString: line.replace(/^servicebus: /, "") };
}

/** Sends `count` requests and dead-letters each, every tenth with reason `Rare`. */
async function fillDeadLetterQueue(client: ServiceBusClient, count: number): Promise<void> {
  const sender = client.createSender("scan-requests");
  let batch = await sender.createMessageBatch();
  for (let n = 0; n < count; n++) {
    const message = {
      messageId: randomUUID(),
      subject: "ScanRequested",
      contentType: "application/json",
      applicationProperties: { registry: "myacr.azurecr.io", imageRef: `myacr.azurecr.io/app-${n}:1` },
      body: {
        schemaVersion: 1,
        image: { ref: `myacr.azurecr.io/app-${n}:1`, registry: "myacr.azurecr.io" },
        force: false,
      },
    };
    if (!batch.tryAddMessage(message)) {
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      batch.tryAddMessage(message);
    }
  }
  await sender.sendMessages(batch);
  await sender.close();
  const receiver = client.createReceiver("scan-requests", { maxAutoLockRenewalDurationInMs: 0 });
  let done = 0;
  while (done < count) {
    const messages = await receiver.receiveMessages(100, { maxWaitTimeInMs: 1_000 });
    await Promise.all(
      messages.map((message) =>
        receiver.deadLetterMessage(message, {
          deadLetterReason: String(message.applicationProperties?.imageRef ?? "").endsWith("0:1")
            ? "Rare"
            : "Common",
          deadLetterErrorDescription: "bench",
        }),
      ),
    );
    done += messages.length;
  }
  await receiver.close();
}

async function timed(argv: string[], env: Record<string, string>): Promise<number> {
  const sink = { write: () => true, isTTY: false };
  const started = performance.now();
  const code = await runScanctl(argv, { stdout: sink, stderr: sink, stdin: (async function* () {})() }, env, {
    receiveWaitMs: 1_000,
  });
  if (code !== 0) throw new Error(`scanctl ${argv.join(" ")} exited ${code}`);
  return performance.now() - started;
}

const broker = await startBroker();
const client = new ServiceBusClient(broker.connectionString);
const env = { SERVICEBUS_CONNECTION_STRING: broker.connectionString };
const rate = (count: number, ms: number) =>
  `${Math.round((count / ms) * 1000)}/s (${count} in ${Math.round(ms)} ms)`;
try {
  await fillDeadLetterQueue(client, DEAD_LETTERS);
  const listMs = await timed(["dlq", "list", "--json"], env);
  console.log(`dlq list (peek, ${DEAD_LETTERS} dead letters):              ${rate(DEAD_LETTERS, listMs)}`);
  const rare = DEAD_LETTERS / 10;
  const someMs = await timed(["dlq", "resubmit", "--reason", "Rare"], env);
  console.log(`dlq resubmit --reason (1 in 10, the rest held and abandoned): ${rate(rare, someMs)}`);
  const allMs = await timed(["dlq", "resubmit", "--all"], env);
  console.log(
    `dlq resubmit --all:                                         ${rate(DEAD_LETTERS - rare, allMs)}`,
  );
} finally {
  await client.close();
  broker.child.kill("SIGTERM");
}
