// The notifier end to end over real sockets: notifications queued by the recorder's core on the
// Service Bus emulator's `notifications` queue, received by the notifier, posted to the webhook
// sink over HTTP. A receiver that answers 500 three times gets the notification once after the
// retries; one that always fails leaves it in the dead-letter queue with its status and answer and
// without the URL; a redelivered ScanCompleted queues nothing new.
import { ServiceBusClient } from "@azure/service-bus";
import {
  type RunningServiceBusEmulator,
  type RunningWebhookSink,
  startServiceBusEmulator,
  startWebhookSink,
} from "@qcs/emulators";
import {
  ENTITY_DEFAULTS,
  FINDINGS_NEW,
  NOTIFY_TARGETS_PROPERTY,
  parseWebhooks,
  SCAN_FAILED,
  secretRedactor,
  type Webhook,
} from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NotificationReceiver, NotificationSender } from "../../src/adapters/serviceBus/notificationQueue.ts";
import { createWebhookPoster } from "../../src/adapters/webhooks/webhookPoster.ts";
import { createNotificationHandler, WEBHOOK_FAILED } from "../../src/core/deliverNotification.ts";
import { createScanCompletedHandler } from "../../src/core/handleScanCompleted.ts";
import { InMemoryScanRecords } from "../support/inMemoryScanRecords.ts";
import { completedScan, failedScan, messageOf } from "../support/scans.ts";

const QUEUE = ENTITY_DEFAULTS.NOTIFICATIONS_QUEUE;
const SECRET = "notify-test-secret-0123456789";
const logger = createLogger({ name: "notifier-test", level: "silent" });
const never = new AbortController().signal;

describe("notifier (Service Bus emulator, webhook sink)", () => {
  let broker: RunningServiceBusEmulator;
  let sink: RunningWebhookSink;
  let client: ServiceBusClient;
  let notifier: NotificationReceiver | undefined;

  beforeAll(async () => {
    [broker, sink] = await Promise.all([startServiceBusEmulator(), startWebhookSink({ secret: SECRET })]);
    client = new ServiceBusClient(broker.connectionString);
  });
  afterEach(async () => {
    await notifier?.stopIntake();
    await notifier?.close();
    notifier = undefined;
    sink.alwaysAnswer(undefined, "/always-fails");
  });
  afterAll(async () => {
    await client.close();
    await Promise.all([broker.close(), sink.close()]);
  });

  function startNotifier(webhooks: Webhook[]) {
    notifier = new NotificationReceiver({
      client,
      queue: QUEUE,
      concurrency: 2,
      handler: createNotificationHandler({
        webhooks,
        post: createWebhookPoster({
          source: "/qcs/test",
          secret: SECRET,
          timeoutMs: 5_000,
          userAgent: "test",
        }),
        policy: { maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 50 },
        logger,
      }),
      logger,
      maxLockRenewalMs: 60_000,
    });
    notifier.start();
  }

  function recorder() {
    const handle = createScanCompletedHandler({
      store: new InMemoryScanRecords(),
      metrics: { resultHandled() {}, storageRetried() {}, deadLettered() {} },
      logger,
      notify: { outbox: new NotificationSender(client, QUEUE), minSeverity: "high" },
    });
    return (scan: ReturnType<typeof completedScan>) => handle(messageOf(scan), never);
  }

  const at = (path: string) => sink.received().filter((item) => item.path === path);

  it("delivers once, after retries, to a receiver that answers 500 three times, signed", async () => {
    const webhooks = parseWebhooks(`cloudevents=${sink.url}/retry`, () => {});
    startNotifier(webhooks);
    sink.answerNext([500, 500, 500]);
    const scan = completedScan({
      vulnerabilities: { critical: 2, high: 0, medium: 0, low: 0, informational: 0, total: 2 },
    });
    const record = recorder();
    expect(await record(scan)).toMatchObject({ action: "complete" });
    // Redelivered: the row already holds it, nothing new is queued or sent.
    expect(await record(scan)).toMatchObject({ action: "complete", outcome: "duplicate" });

    await waitFor(() => at("/retry").some((item) => item.status === 200), "the delivery that succeeds");
    await waitFor(async () => (await peekAll(client, QUEUE)).length === 0, "the notification completed");
    expect(at("/retry").map((item) => item.status)).toEqual([500, 500, 500, 200]);
    const delivered = at("/retry")[3];
    expect(delivered).toMatchObject({
      format: "cloudevents",
      id: `${scan.scanId}:${FINDINGS_NEW}`,
      type: FINDINGS_NEW,
      ref: scan.image.ref,
      signature: "valid",
    });
  });

  it("dead-letters what a receiver keeps refusing, naming the webhook (not its URL), status and answer", async () => {
    const url = `${sink.url}/always-fails?key=sig-0123456789abcdef`;
    const webhooks = parseWebhooks(`teams=${url},slack=${sink.url}/fine`, () => {});
    for (const webhook of webhooks) secretRedactor.addSecret(webhook.url);
    const [teams, slack] = webhooks;
    if (!teams || !slack) throw new Error("two webhooks expected");
    startNotifier(webhooks);
    sink.alwaysAnswer(503, "/always-fails");
    await recorder()(failedScan({ error: { class: "ImageNotFound", message: "manifest unknown" } }));

    const deadLetters = client.createReceiver(QUEUE, { subQueueType: "deadLetter" });
    try {
      let letters: Awaited<ReturnType<typeof deadLetters.peekMessages>> = [];
      await waitFor(async () => {
        letters = await deadLetters.peekMessages(10);
        return letters.length === 1;
      }, "the dead letter");
      const [letter] = letters;
      expect(letter?.deadLetterReason).toBe(WEBHOOK_FAILED);
      expect(letter?.deadLetterErrorDescription).toBe(`${teams.id}: HTTP 503: sink answers 503 as scripted`);
      expect(letter?.deadLetterErrorDescription).not.toContain("sig-0123456789abcdef");
      // A resubmitted copy goes to the Teams webhook only: Slack already has it.
      expect(letter?.applicationProperties?.[NOTIFY_TARGETS_PROPERTY]).toBe(teams.id);
      expect(letter?.applicationProperties?.type).toBe(SCAN_FAILED);
      expect(at("/always-fails").map((item) => [item.format, item.status])).toEqual(
        Array.from({ length: 4 }, () => ["teams", 503]),
      );
      expect(at("/fine").map((item) => [item.format, item.status, item.signature])).toEqual([
        ["slack", 200, "valid"],
      ]);
    } finally {
      await deadLetters.close();
    }
  });
});

async function peekAll(client: ServiceBusClient, queue: string) {
  const receiver = client.createReceiver(queue);
  try {
    return await receiver.peekMessages(100);
  } finally {
    await receiver.close();
  }
}
