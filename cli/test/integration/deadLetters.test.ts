/**
 * scanctl's dead-letter commands against the Service Bus emulator, through the official SDK:
 * dead letters made as the services make them, then listed, shown, resubmitted and purged.
 */
import { ServiceBusClient, type ServiceBusReceivedMessage } from "@azure/service-bus";
import { type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { parseScanRequestedMessage, type ScanRequested } from "@qcs/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";
import {
  brokerConfig,
  deadLetterRequests,
  deadLetterResults,
  peekAll,
  receiveExactly,
  scanRequest,
  scanResult,
} from "../support/serviceBus.ts";

const QUEUE = "scan-requests";
const DLQ = { subQueueType: "deadLetter" as const };

interface ListJson {
  path: string;
  matched: number;
  truncated: boolean;
  byReason: Array<{ reason: string; count: number }>;
  items: Array<{
    sequenceNumber: string;
    reason: string;
    description: string;
    image: string;
    deliveryCount: number;
  }>;
}

describe("scanctl dlq against the Service Bus emulator", () => {
  let broker: RunningServiceBusEmulator;
  let client: ServiceBusClient;
  let env: Record<string, string>;
  const seq: Record<string, bigint> = {};
  const requests: Record<string, ScanRequested> = {};

  const deadLetterQueue = async () => peekAll(client.createReceiver(QUEUE, DLQ));
  const sequenceNumbersOf = (messages: ServiceBusReceivedMessage[]) =>
    messages.map((message) => BigInt(String(message.sequenceNumber)));
  const run = (...argv: string[]) => scanctl(argv, env, { tuning: { receiveWaitMs: 1_000 } });

  beforeAll(async () => {
    broker = await startServiceBusEmulator({
      config: brokerConfig({ lockDuration: "PT5S", maxDeliveryCount: 2 }),
    });
    env = { SERVICEBUS_CONNECTION_STRING: broker.connectionString };
    client = new ServiceBusClient(broker.connectionString);
    const specs: Array<[string, string, string, boolean]> = [
      ["missing-1", "docker.io/library/nginx:9.99", "ImageNotFound", false],
      ["auth-1", "myacr.azurecr.io/team/api:1.0", "RegistryAuthFailed", false],
      ["missing-2", "docker.io/library/redis:0.1", "ImageNotFound", false],
      ["auth-2", "myacr.azurecr.io/team/web:2.0", "RegistryAuthFailed", false],
      ["timeout", "ghcr.io/acme/big:1", "ScanTimeout", true],
      ["missing-3", "quay.io/acme/gone:3", "ImageNotFound", false],
    ];
    for (const [name, image, , force] of specs) requests[name] = scanRequest(image, force);
    const numbers = await deadLetterRequests(
      client,
      QUEUE,
      specs.map(([name, , reason]) => ({
        body: requests[name] as ScanRequested,
        reason,
        description: `${reason} for ${name}`,
      })),
    );
    specs.forEach(([name], index) => {
      seq[name] = numbers[index] as bigint;
    });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.close();
  });

  it("lists every dead letter with a summary by reason (JSON)", async () => {
    const result = await run("dlq", "list", "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const listing = result.json<ListJson>();
    expect(listing.path).toBe("scan-requests/$DeadLetterQueue");
    expect(listing.matched).toBe(6);
    expect(listing.byReason).toEqual([
      {
        reason: "ImageNotFound",
        count: 3,
        oldestEnqueuedAt: expect.any(String),
        newestEnqueuedAt: expect.any(String),
      },
      {
        reason: "RegistryAuthFailed",
        count: 2,
        oldestEnqueuedAt: expect.any(String),
        newestEnqueuedAt: expect.any(String),
      },
      {
        reason: "ScanTimeout",
        count: 1,
        oldestEnqueuedAt: expect.any(String),
        newestEnqueuedAt: expect.any(String),
      },
    ]);
    const auth = listing.items.find((item) => item.sequenceNumber === String(seq["auth-1"]));
    expect(auth).toMatchObject({
      reason: "RegistryAuthFailed",
      description: "RegistryAuthFailed for auth-1",
      image: "myacr.azurecr.io/team/api:1.0",
      deliveryCount: 1,
    });
  });

  it("filters by reason, registry and age, and limits the rows", async () => {
    const byReason = (await run("dlq", "list", "--reason", "imagenotfound", "--json")).json<ListJson>();
    expect(byReason.items.map((item) => item.sequenceNumber).sort()).toEqual(
      ["missing-1", "missing-2", "missing-3"].map((name) => String(seq[name])).sort(),
    );
    const byRegistry = (
      await run("dlq", "list", "--registry", "myacr.azurecr.io", "--json")
    ).json<ListJson>();
    expect(byRegistry.items.map((item) => item.image).sort()).toEqual([
      "myacr.azurecr.io/team/api:1.0",
      "myacr.azurecr.io/team/web:2.0",
    ]);
    const old = (await run("dlq", "list", "--older-than", "1h", "--json")).json<ListJson>();
    expect(old.matched).toBe(0);
    const limited = (await run("dlq", "list", "--limit", "2", "--json")).json<ListJson>();
    expect([limited.items.length, limited.matched, limited.truncated]).toEqual([2, 6, true]);
  });

  it("prints a table for people", async () => {
    const result = await run("dlq", "list", "--reason", "ScanTimeout");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("scan-requests/$DeadLetterQueue: 1 matching of 6 dead letters");
    expect(result.stdout).toMatch(/REASON\s+COUNT\s+OLDEST\s+NEWEST/);
    expect(result.stdout).toMatch(/SEQ\s+ENQUEUED\s+DELIVERIES\s+REASON\s+DESCRIPTION\s+IMAGE/);
    expect(result.stdout).toContain("ghcr.io/acme/big:1");
  });

  it("shows one dead letter whole: body, properties, reason and description", async () => {
    const result = await run("dlq", "show", String(seq.timeout), "--json");
    expect(result.code).toBe(0);
    const shown = result.json<Record<string, unknown>>();
    expect(shown).toMatchObject({
      sequenceNumber: String(seq.timeout),
      reason: "ScanTimeout",
      description: "ScanTimeout for timeout",
      subject: "ScanRequested",
      contentType: "application/json",
      bodyEncoding: "json",
      body: requests.timeout,
    });
    expect(shown.applicationProperties).toMatchObject({
      imageRef: "ghcr.io/acme/big:1",
      registry: "ghcr.io",
    });
    const human = await run("dlq", "show", String(seq.timeout));
    expect(human.stdout).toContain("reason:         ScanTimeout");
  });

  it("answers 1 with one line for a sequence number that is not there", async () => {
    const result = await run("dlq", "show", "987654");
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      "scanctl: no dead letter with sequence number 987654 in scan-requests/$DeadLetterQueue",
    );
  });

  it("changes nothing on --dry-run", async () => {
    const before = sequenceNumbersOf(await deadLetterQueue());
    const result = await run("dlq", "resubmit", "--reason", "RegistryAuthFailed", "--dry-run", "--json");
    expect(result.code).toBe(0);
    const plan = result.json<{
      dryRun: boolean;
      selected: number;
      items: Array<{ sequenceNumber: string }>;
    }>();
    expect(plan.dryRun).toBe(true);
    expect(plan.items.map((item) => item.sequenceNumber).sort()).toEqual(
      [String(seq["auth-1"]), String(seq["auth-2"])].sort(),
    );
    expect(sequenceNumbersOf(await deadLetterQueue())).toEqual(before);
    expect(await client.createReceiver(QUEUE).peekMessages(10)).toEqual([]);
  });

  it("resubmits exactly the dead letters of a reason, and they are processed again", async () => {
    const result = await run("dlq", "resubmit", "--reason", "RegistryAuthFailed", "--json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const outcome = result.json<{ settled: string[]; notRemoved: string[]; notFound: string[] }>();
    const expected = [String(seq["auth-1"]), String(seq["auth-2"])].sort();
    expect(outcome.settled.sort()).toEqual(expected);

    const remaining = await deadLetterQueue();
    expect(sequenceNumbersOf(remaining).map(String).sort()).toEqual(
      ["missing-1", "missing-2", "missing-3", "timeout"].map((name) => String(seq[name])).sort(),
    );
    // Skipped while looking for the selected ones, abandoned, still dead letters with their reasons.
    expect(remaining.every((message) => message.deadLetterReason !== undefined)).toBe(true);

    // A scanner-like consumer takes them from the queue again.
    const receiver = client.createReceiver(QUEUE);
    const copies = await receiveExactly(receiver, 2);
    for (const copy of copies) {
      const request = parseScanRequestedMessage(copy);
      const original =
        copy.applicationProperties?.resubmittedFrom === String(seq["auth-1"])
          ? requests["auth-1"]
          : requests["auth-2"];
      expect(request).toEqual(original);
      expect(copy.messageId).not.toBe(undefined);
      expect(copy.applicationProperties?.DeadLetterReason).toBeUndefined();
      await receiver.completeMessage(copy);
    }
    expect(copies.map((copy) => copy.applicationProperties?.resubmittedFrom).sort()).toEqual(expected);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).toEqual([]);
  });

  it("keeps a forced request forced when it is resubmitted", async () => {
    const result = await run("dlq", "resubmit", "--seq", String(seq.timeout));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("resubmitted 1 of 1");
    const receiver = client.createReceiver(QUEUE);
    const [copy] = await receiveExactly(receiver, 1);
    expect(parseScanRequestedMessage(copy as ServiceBusReceivedMessage).force).toBe(true);
    await receiver.completeMessage(copy as ServiceBusReceivedMessage);
  });

  it("leaves skipped dead letters in the queue however often they are skipped", async () => {
    // The broker's maximum delivery count is 2 here: abandoning inside the dead-letter queue must
    // neither drop a dead letter nor dead-letter it again. Each round resubmits the newest dead
    // letter, so every older one is received, held and abandoned.
    const extra = await deadLetterRequests(
      client,
      QUEUE,
      ["a", "b", "c"].map((name) => ({
        body: scanRequest(`docker.io/library/extra-${name}:1`),
        reason: "ScannerFailed",
        description: "exit 3",
      })),
    );
    for (const sequenceNumber of [...extra].reverse()) {
      const result = await run("dlq", "resubmit", "--seq", String(sequenceNumber));
      expect(result.code).toBe(0);
    }
    const remaining = await deadLetterQueue();
    expect(sequenceNumbersOf(remaining).map(String).sort()).toEqual(
      ["missing-1", "missing-2", "missing-3"].map((name) => String(seq[name])).sort(),
    );
    for (const message of remaining) {
      expect(message.deadLetterReason).toBe("ImageNotFound");
      expect(message.deliveryCount).toBeGreaterThanOrEqual(4);
    }
    const receiver = client.createReceiver(QUEUE);
    for (const copy of await receiveExactly(receiver, 3)) await receiver.completeMessage(copy);
  });

  it("refuses to purge without --yes and changes nothing", async () => {
    const before = sequenceNumbersOf(await deadLetterQueue());
    const result = await run("dlq", "purge", "--reason", "ImageNotFound");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--yes");
    expect(sequenceNumbersOf(await deadLetterQueue())).toEqual(before);
  });

  it("purges what was selected and lists it", async () => {
    const result = await run("dlq", "purge", "--seq", String(seq["missing-2"]), "--yes");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("purged 1 of 1");
    expect(result.stdout).toContain("docker.io/library/redis:0.1");
    expect(
      sequenceNumbersOf(await deadLetterQueue())
        .map(String)
        .sort(),
    ).toEqual([String(seq["missing-1"]), String(seq["missing-3"])].sort());
  });

  it("resubmits dead results to the topic, where the recorder's subscription gets them again", async () => {
    const result1 = scanResult("docker.io/library/alpine:3.20");
    const [resultSeq] = await deadLetterResults(client, "scan-completed", "recorder", [
      { body: result1, reason: "InvalidMessage", description: "table rejected the row" },
    ]);
    const listing = (await run("dlq", "list", "--entity", "results", "--json")).json<ListJson>();
    expect(listing.path).toBe("scan-completed/Subscriptions/recorder/$DeadLetterQueue");
    expect(listing.items.map((item) => item.sequenceNumber)).toEqual([String(resultSeq)]);

    const resubmitted = await run("dlq", "resubmit", "--entity", "results", "--all", "--json");
    expect(resubmitted.code).toBe(0);
    expect(resubmitted.json<{ target: string }>().target).toBe("scan-completed");
    const receiver = client.createReceiver("scan-completed", "recorder");
    const [copy] = await receiveExactly(receiver, 1);
    expect(copy?.body).toEqual(result1);
    expect(copy?.applicationProperties?.resubmittedFrom).toBe(String(resultSeq));
    await receiver.completeMessage(copy as ServiceBusReceivedMessage);
    expect(await peekAll(client.createReceiver("scan-completed", "recorder", DLQ))).toEqual([]);
  });

  it("lists and resubmits the sweep queue's dead letters with --entity sweep, back to the sweep queue", async () => {
    const swept = scanRequest("docker.io/library/swept:1.0");
    const [sweptSeq] = await deadLetterRequests(client, "scan-requests-sweep", [
      { body: swept, reason: "ImageNotFound", description: "manifest unknown" },
    ]);
    const listing = (await run("dlq", "list", "--entity", "sweep", "--json")).json<ListJson>();
    expect(listing.path).toBe("scan-requests-sweep/$DeadLetterQueue");
    expect(listing.items.map((item) => item.sequenceNumber)).toEqual([String(sweptSeq)]);

    const resubmitted = await run("dlq", "resubmit", "--entity", "sweep", "--all", "--json");
    expect(resubmitted.code).toBe(0);
    expect(resubmitted.json<{ target: string }>().target).toBe("scan-requests-sweep");
    const receiver = client.createReceiver("scan-requests-sweep");
    const [copy] = await receiveExactly(receiver, 1);
    expect(copy?.body).toEqual(swept);
    await receiver.completeMessage(copy as ServiceBusReceivedMessage);
    expect(await peekAll(client.createReceiver("scan-requests-sweep", DLQ))).toEqual([]);
  });

  it("enqueues manual rescans; only a forced one passes duplicate detection for the same image", async () => {
    const first = await run("rescan", "nginx:1.27", "--json");
    expect(first.code).toBe(0);
    const [requested] = first.json<{ requested: Array<{ image: string; force: boolean }> }>().requested;
    expect(requested).toMatchObject({ image: "docker.io/library/nginx:1.27", force: false });
    expect((await run("rescan", "nginx:1.27")).code).toBe(0);
    expect((await run("rescan", "nginx:1.27", "--force", "--reason", "patched base image")).code).toBe(0);

    const receiver = client.createReceiver(QUEUE);
    const messages = await receiveExactly(receiver, 2);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 })).toEqual([]);
    const bodies = messages.map((message) => parseScanRequestedMessage(message));
    expect(bodies.map((body) => body.force).sort()).toEqual([false, true]);
    expect(bodies.find((body) => body.force)?.sources).toEqual([
      { kind: "manual", reason: "patched base image" },
    ]);
    for (const message of messages) await receiver.completeMessage(message);
  });
});
