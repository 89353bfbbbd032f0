/**
 * `npm run emulators -- --eventhubs-data-dir DIR` as a process, with the official SDK: events a
 * producer was told are stored survive a kill -9 of the emulator, with their sequence numbers and
 * offsets, and numbering goes on after the restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import {
  EventHubConsumerClient,
  EventHubProducerClient,
  earliestEventPosition,
  type ReceivedEventData,
} from "@azure/event-hubs";
import { waitFor } from "@qcs/test-support";
import { afterAll, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../src/bin.ts", import.meta.url));
const HUB = "activity-log";
const children: ChildProcess[] = [];
let dataDir: string;

async function startEmulator(): Promise<{
  child: ChildProcess;
  connectionString: string;
  exited: Promise<unknown>;
}> {
  const child = spawn(
    process.execPath,
    [bin, "--only", "eventhubs", "--eventhubs-port", "0", "--eventhubs-data-dir", dataDir],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.push(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => lines.push(line));
  await waitFor(
    () => lines.some((line) => line.startsWith("eventhubs: ")) || child.exitCode !== null,
    "the eventhubs line",
  );
  const line = lines.find((candidate) => candidate.startsWith("eventhubs: "));
  if (!line) throw new Error("the emulator exited before it was ready");
  return { child, connectionString: line.slice("eventhubs: ".length), exited };
}

async function readPartition(connectionString: string, count: number): Promise<ReceivedEventData[]> {
  const consumer = new EventHubConsumerClient("$Default", connectionString, HUB);
  const received: ReceivedEventData[] = [];
  const subscription = consumer.subscribe(
    "0",
    {
      processEvents: async (events) => {
        received.push(...events);
      },
      processError: async () => {},
    },
    { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
  );
  try {
    await waitFor(() => received.length >= count, `${count} events`);
  } finally {
    await subscription.close();
    await consumer.close();
  }
  return received;
}

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("Event Hubs emulator with a data folder", () => {
  it("keeps acknowledged events across a kill -9, numbering included, and numbers on from there", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "eh-data-"));
    const first = await startEmulator();
    const producer = new EventHubProducerClient(first.connectionString, HUB);
    const batch = await producer.createBatch({ partitionId: "0" });
    for (const body of ["a", "b", "c"]) batch.tryAdd({ body, properties: { kind: "test" } });
    await producer.sendBatch(batch);
    await producer.close();
    const before = await readPartition(first.connectionString, 3);
    first.child.kill("SIGKILL");
    await first.exited;

    const second = await startEmulator();
    const after = await readPartition(second.connectionString, 3);
    const view = (events: ReceivedEventData[]) =>
      events.map(({ body, properties, sequenceNumber, offset, enqueuedTimeUtc }) => ({
        body,
        properties,
        sequenceNumber,
        offset,
        enqueuedTimeUtc,
      }));
    expect(view(after)).toEqual(view(before));
    expect(after.map((event) => event.sequenceNumber)).toEqual([0, 1, 2]);

    const again = new EventHubProducerClient(second.connectionString, HUB);
    await again.sendBatch([{ body: "d" }], { partitionId: "0" });
    const properties = await again.getPartitionProperties("0");
    await again.close();
    expect(properties.lastEnqueuedSequenceNumber).toBe(3);
    second.child.kill("SIGTERM");
    await second.exited;
  });
});
