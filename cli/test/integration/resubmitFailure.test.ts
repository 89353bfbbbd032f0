/**
 * Resubmission while the broker fails midway loses nothing and duplicates nothing. The SDK talks
 * to the emulator through a relay that cuts every connection at a completion (copies already
 * accepted by the broker, dead letters not yet removed) and refuses to reconnect; the run stops
 * and says what it left. Once the broker is reachable again, the same command finishes the job:
 * the dead letters whose copies were sent are resubmitted again, and duplicate detection on
 * `scan-requests` drops those second copies.
 */
import { ServiceBusClient } from "@azure/service-bus";
import { type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FaultyLink } from "../support/faultyLink.ts";
import { scanctl } from "../support/runCli.ts";
import {
  brokerConfig,
  deadLetterRequests,
  peekAll,
  receiveExactly,
  scanRequest,
} from "../support/serviceBus.ts";

const QUEUE = "scan-requests";
const SELECTED = 30;
const OTHERS = 10;
/** Lock of a dead letter whose completion was lost; the second run's receive outwaits it. */
const LOCK = "PT2S";
const RECEIVE_WAIT_MS = 4_000;
/** An operation on a dropped connection fails after this long (the SDK would wait 30 s). */
const OPERATION_TIMEOUT_MS = 3_000;

interface Outcome {
  settled: string[];
  notRemoved: string[];
  notAttempted: string[];
  notFound: string[];
  error: string | null;
}

describe("resubmission while the broker fails midway", () => {
  let broker: RunningServiceBusEmulator;
  let link: FaultyLink;
  let client: ServiceBusClient;
  let selected: bigint[];
  let others: bigint[];
  let env: Record<string, string>;

  beforeAll(async () => {
    broker = await startServiceBusEmulator({
      config: brokerConfig({ lockDuration: LOCK, maxDeliveryCount: 2 }),
    });
    link = new FaultyLink({ host: broker.host, port: broker.port });
    const port = await link.start();
    env = { SERVICEBUS_CONNECTION_STRING: broker.connectionString.replace(`:${broker.port};`, `:${port};`) };
    client = new ServiceBusClient(broker.connectionString);
    // Interleaved, so the resubmission skips and holds the others while it works.
    const specs = Array.from({ length: SELECTED + OTHERS }, (_, index) => ({
      body: scanRequest(`myacr.azurecr.io/app-${index}:1`),
      reason: index % 4 === 3 ? "ImageNotFound" : "RegistryAuthFailed",
      description: "from the test",
    }));
    const numbers = await deadLetterRequests(client, QUEUE, specs);
    selected = numbers.filter((_, index) => specs[index]?.reason === "RegistryAuthFailed");
    others = numbers.filter((_, index) => specs[index]?.reason === "ImageNotFound");
  });

  afterAll(async () => {
    await client?.close();
    await link?.close();
    await broker?.close();
  });

  it("stops with nothing lost, then finishes on the next run with one copy per dead letter", async () => {
    expect(selected).toHaveLength(SELECTED);
    link.failAfterNextBatch();
    const first = await scanctl(["dlq", "resubmit", "--reason", "RegistryAuthFailed", "--json"], env, {
      tuning: { receiveWaitMs: RECEIVE_WAIT_MS, operationTimeoutMs: OPERATION_TIMEOUT_MS },
    });
    expect(link.cuts).toBe(1);
    expect(first.code).toBe(1);
    expect(first.stderr).toContain("scanctl: resubmit incomplete:");
    const stopped = first.json<Outcome>();
    expect(stopped.error).not.toBeNull();
    // The relay cut the connection at a completion: some copies exist whose dead letters remain.
    expect(stopped.notRemoved.length).toBeGreaterThan(0);
    const accounted = [
      ...stopped.settled,
      ...stopped.notRemoved,
      ...stopped.notAttempted,
      ...stopped.notFound,
    ];
    expect(accounted.sort()).toEqual(selected.map(String).sort());

    // Nothing lost: every selected dead letter is still dead-lettered or has a copy on the queue.
    const dlq = (await peekAll(client.createReceiver(QUEUE, { subQueueType: "deadLetter" }))).map((m) =>
      String(m.sequenceNumber),
    );
    const queued = (await peekAll(client.createReceiver(QUEUE))).map((m) =>
      String(m.applicationProperties?.resubmittedFrom),
    );
    for (const sequenceNumber of selected.map(String)) {
      expect(dlq.includes(sequenceNumber) || queued.includes(sequenceNumber)).toBe(true);
    }
    for (const sequenceNumber of others.map(String)) expect(dlq).toContain(sequenceNumber);

    link.restore();
    const second = await scanctl(["dlq", "resubmit", "--reason", "RegistryAuthFailed", "--json"], env, {
      tuning: { receiveWaitMs: RECEIVE_WAIT_MS, operationTimeoutMs: OPERATION_TIMEOUT_MS },
    });
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);

    // Exactly one copy per selected dead letter; the others untouched.
    const receiver = client.createReceiver(QUEUE);
    const copies = await receiveExactly(receiver, SELECTED);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
    expect(copies.map((copy) => String(copy.applicationProperties?.resubmittedFrom)).sort()).toEqual(
      selected.map(String).sort(),
    );
    const left = await peekAll(client.createReceiver(QUEUE, { subQueueType: "deadLetter" }));
    expect(left.map((message) => String(message.sequenceNumber)).sort()).toEqual(others.map(String).sort());
  });
});
