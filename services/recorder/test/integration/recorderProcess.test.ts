// The recorder as its own process (src/main.ts), as it runs in a container, shut down with SIGTERM
// while results are being written: what it holds is either recorded and completed or back on the
// subscription, nothing is dead-lettered, and it exits 0. Table traffic goes through a relay that
// can hold it, so "while writing" is a fact of the test rather than a matter of timing.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { ServiceBusClient } from "@azure/service-bus";
import {
  AZURITE_KEY,
  type RunningAzurite,
  type RunningServiceBusEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { buildScanCompletedMessage, parseImageRef, type ScanCompleted } from "@qcs/shared";
import { TcpRelay, waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ScanHistoryEntity } from "../../src/core/scanHistory.ts";
import { tableClient, tableNames } from "../support/azurite.ts";
import { completedScan, DIGEST } from "../support/scans.ts";

const MAIN = join(import.meta.dirname, "..", "..", "src", "main.ts");
const TOPIC = "scan-completed";
const SUBSCRIPTION = "recorder";
const API_KEY = "recorder-process-key-7c2e91d04b-0123456789";
const SAS_KEY = "SAS_KEY_VALUE";
/** Results published per test, and how many the recorder handles at once. */
const COUNT = 12;
const CONCURRENCY = 3;

let azurite: RunningAzurite;
let broker: RunningServiceBusEmulator;
let client: ServiceBusClient;

beforeAll(async () => {
  [azurite, broker] = await Promise.all([sharedAzurite(), startServiceBusEmulator()]);
  client = new ServiceBusClient(broker.connectionString);
});

afterAll(async () => {
  await client?.close();
  await broker?.close();
  await azurite?.stop();
});

class RecorderProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  url = "";

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on("line", (line) => this.lines.push(line));
    }
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  messages(): string[] {
    return this.lines.map((line) => String(parseLine(line)?.msg));
  }

  /** Waits (generously: the machine may be loaded) for a JSON log line whose `msg` is `message`. */
  async logged(message: string): Promise<Record<string, unknown>> {
    const matchOrExit = () =>
      this.lines.map(parseLine).find((line) => line?.msg === message) ??
      (this.child.exitCode !== null ? "exited" : undefined);
    const found = await waitFor(matchOrExit, `a "${message}" log line`, 30_000).catch(() => undefined);
    if (found === undefined || found === "exited") {
      throw new Error(`no "${message}" log line from the recorder; output:\n${this.lines.join("\n")}`);
    }
    return found;
  }

  async ready(): Promise<void> {
    this.url = String((await this.logged("recorder ready")).url);
  }

  async exitCode(): Promise<number | null> {
    const timeout = sleep(30_000).then(() => "still running after 30 s" as const);
    const code = await Promise.race([this.exited, timeout]);
    if (code === "still running after 30 s") {
      throw new Error(`the recorder did not exit after SIGTERM; output:\n${this.lines.join("\n")}`);
    }
    return code;
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const processes: RecorderProcess[] = [];
const relays: TcpRelay[] = [];

afterEach(async () => {
  for (const started of processes.splice(0)) {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill("SIGKILL");
    await started.exited;
    const output = started.lines.join("\n");
    expect(output).not.toContain(AZURITE_KEY);
    expect(output).not.toContain(SAS_KEY);
    expect(output).not.toContain(API_KEY);
  }
  for (const relay of relays.splice(0)) await relay.close();
  // Leave the subscription (and its dead-letter queue) empty for the next test.
  for (const subQueueType of [undefined, "deadLetter"] as const) {
    const drainer = client.createReceiver(TOPIC, SUBSCRIPTION, {
      receiveMode: "receiveAndDelete",
      subQueueType,
    });
    while ((await drainer.receiveMessages(50, { maxWaitTimeInMs: 200 })).length > 0);
    await drainer.close();
  }
});

/** A recorder whose Table Storage traffic passes through a relay the test can hold. */
async function startRecorderBehindRelay(graceSeconds: number) {
  const relay = new TcpRelay({ host: "127.0.0.1", port: azurite.ports.table });
  relays.push(relay);
  const relayPort = await relay.start();
  const tables = tableNames();
  const recorder = new RecorderProcess({
    SERVICEBUS_CONNECTION_STRING: broker.connectionString,
    STORAGE_CONNECTION_STRING: azurite.connectionString.replace(
      `TableEndpoint=${azurite.tableUrl}`,
      `TableEndpoint=http://127.0.0.1:${relayPort}/${azurite.tableUrl.split("/").at(-1)}`,
    ),
    SCAN_METADATA_TABLE: tables.metadata,
    SCAN_HISTORY_TABLE: tables.history,
    RECORDER_API_KEY: API_KEY,
    RECORDER_CONCURRENCY: String(CONCURRENCY),
    SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_FORMAT: "json",
  });
  processes.push(recorder);
  await recorder.ready();
  return { relay, recorder, tables };
}

/** COUNT results of distinct images (so concurrent writes do not contend for one row), published. */
async function publishResults(): Promise<ScanCompleted[]> {
  const scans = Array.from({ length: COUNT }, (_, index) =>
    completedScan({
      image: { ...parseImageRef(`myreg.azurecr.io/payments/service-${index}@${DIGEST}`), tag: "1.0.0" },
    }),
  );
  const sender = client.createSender(TOPIC);
  await sender.sendMessages(scans.map(buildScanCompletedMessage));
  await sender.close();
  return scans;
}

/** Waits until the recorder's handlers are all stuck on a held storage request. */
async function handlersHeld(relay: TcpRelay, recorder: RecorderProcess): Promise<void> {
  await waitFor(
    () => heldRequests(relay) >= CONCURRENCY,
    "every handler held on a storage request",
    30_000,
  ).catch(() => {
    throw new Error(
      `only ${heldRequests(relay)} of ${CONCURRENCY} storage requests reached the relay; output:\n${recorder.lines.join("\n")}`,
    );
  });
}

/** Start of an HTTP/1.1 request line, as the Azure SDK sends one. */
const REQUEST_LINE = /(?:^|\r\n)(?:GET|HEAD|POST|PUT|PATCH|MERGE|DELETE|OPTIONS) \S+ HTTP\/1\.1\r\n/g;

/** HTTP requests that reached the relay while it held them. */
function heldRequests(relay: TcpRelay): number {
  return relay.held.reduce(
    (count, chunk) => count + (chunk.toString("latin1").match(REQUEST_LINE)?.length ?? 0),
    0,
  );
}

/** Scans with rows in the history table (several rows each), read straight from Azurite. */
async function recordedScanIds(historyTable: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const row of tableClient(azurite.connectionString, historyTable).listEntities<
    Pick<ScanHistoryEntity, "ScanId">
  >()) {
    ids.push(row.ScanId);
  }
  return [...new Set(ids)].sort();
}

/** Receives (peek-lock, then completes) until `count` results came or nothing arrives for 10 s. */
async function takeFromSubscription(count: number) {
  const receiver = client.createReceiver(TOPIC, SUBSCRIPTION);
  const taken: Array<{ scanId: string; deliveryCount: number }> = [];
  try {
    while (taken.length < count) {
      const batch = await receiver.receiveMessages(count - taken.length, { maxWaitTimeInMs: 10_000 });
      if (batch.length === 0) break;
      for (const message of batch) {
        taken.push({
          scanId: (message.body as ScanCompleted).scanId,
          deliveryCount: message.deliveryCount ?? 0,
        });
        await receiver.completeMessage(message);
      }
    }
  } finally {
    await receiver.close();
  }
  return taken;
}

async function deadLettered(): Promise<unknown[]> {
  const receiver = client.createReceiver(TOPIC, SUBSCRIPTION, { subQueueType: "deadLetter" });
  const peeked = await receiver.peekMessages(COUNT);
  await receiver.close();
  return peeked.map((message) => message.body);
}

describe("recorder process", () => {
  it("on SIGTERM reports not ready, finishes the results it is writing, completes them, leaves the rest on the subscription and exits 0", async () => {
    const { relay, recorder, tables } = await startRecorderBehindRelay(20);
    expect((await fetch(`${recorder.url}/readyz`)).status).toBe(200);

    relay.hold();
    const scans = await publishResults();
    await handlersHeld(relay, recorder);

    recorder.child.kill("SIGTERM");
    await recorder.logged("shutting down: intake stopped, draining");
    expect((await fetch(`${recorder.url}/readyz`)).status).toBe(503);
    // Only once the receiver has stopped can a finished write not make room for another message.
    expect((await recorder.logged("stopped receiving")).inFlight).toBe(CONCURRENCY);
    relay.release();

    expect(await recorder.exitCode()).toBe(0);
    expect(recorder.messages()).toContain("stopped");
    expect(recorder.messages()).not.toContain("grace period over: closing with work abandoned");

    // Exactly the results in flight at SIGTERM were recorded; no new one was taken after it.
    const recorded = await recordedScanIds(tables.history);
    expect(recorded).toHaveLength(CONCURRENCY);
    const left = await takeFromSubscription(COUNT - CONCURRENCY);
    expect(left.every((message) => !recorded.includes(message.scanId))).toBe(true);
    expect(left.every((message) => message.deliveryCount === 0)).toBe(true);
    expect([...recorded, ...left.map((message) => message.scanId)].sort()).toEqual(
      scans.map((scan) => scan.scanId).sort(),
    );
    expect(await deadLettered()).toEqual([]);
  });

  it("when storage hangs past the grace period, abandons what it holds (redelivered at once, not after the lock) and exits 0", async () => {
    const { relay, recorder, tables } = await startRecorderBehindRelay(2);
    relay.hold();
    const scans = await publishResults();
    await handlersHeld(relay, recorder);

    recorder.child.kill("SIGTERM");
    expect(await recorder.exitCode()).toBe(0);
    expect(recorder.messages()).toContain("grace period over: closing with work abandoned");
    await relay.close();

    expect(await recordedScanIds(tables.history)).toEqual([]);
    // The subscription's lock lasts a minute: receiving all of them within seconds proves the
    // recorder abandoned the ones it held.
    const left = await takeFromSubscription(COUNT);
    expect(left.map((message) => message.scanId).sort()).toEqual(scans.map((scan) => scan.scanId).sort());
    expect(left.filter((message) => message.deliveryCount === 1)).toHaveLength(CONCURRENCY);
    expect(await deadLettered()).toEqual([]);
  });
});
