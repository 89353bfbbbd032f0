import { ServiceBusClient } from "@azure/service-bus";
import { type RunningAzurite, type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { buildScanCompletedMessage } from "@qcs/shared";
import type { RunningService } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecorder } from "../../src/main.ts";
import { tableNames } from "../support/azurite.ts";
import { completedScan, DIGEST, failedScan } from "../support/scans.ts";

const API_KEY = "e2e-key-abcdefghijklmnop-0123456789";

describe("the recorder service, wired by main.ts (Service Bus emulator, Azurite)", () => {
  let azurite: RunningAzurite;
  let broker: RunningServiceBusEmulator;
  let recorder: RunningService | undefined;

  beforeAll(async () => {
    [azurite, broker] = await Promise.all([sharedAzurite(), startServiceBusEmulator()]);
  });
  afterAll(async () => {
    await recorder?.shutdown();
    await broker?.close();
    await azurite?.stop();
  });

  it("records what the scanner publishes, serves it, reports readiness and metrics, and stops cleanly", async () => {
    const names = tableNames();
    recorder = await startRecorder({
      env: {
        SERVICEBUS_CONNECTION_STRING: broker.connectionString,
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        SCAN_METADATA_TABLE: names.metadata,
        SCAN_HISTORY_TABLE: names.history,
        RECORDER_API_KEY: API_KEY,
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "silent",
        SHUTDOWN_GRACE_SECONDS: "2",
        // The poll below wants fresh counts: a first count taken before both results landed must not stick.
        RECORDER_STATS_CACHE_SECONDS: "0",
      },
    });
    const api = (path: string) =>
      fetch(`${recorder?.url}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });

    const client = new ServiceBusClient(broker.connectionString);
    const sender = client.createSender("scan-completed");
    const scans = [
      completedScan({ finishedAt: "2025-03-14T10:00:00.000Z" }),
      failedScan({ finishedAt: "2025-03-14T11:00:00.000Z" }),
    ];
    await sender.sendMessages(scans.map(buildScanCompletedMessage));
    await sender.sendMessages({ body: { nonsense: true }, subject: "ScanCompleted", messageId: "bad" });
    await client.close();

    await expect
      .poll(
        async () =>
          ((await (await api("/api/stats")).json()) as { byStatus?: { failed: number } }).byStatus?.failed,
        {
          timeout: 30_000,
        },
      )
      .toBe(1);
    const image = (await (
      await api(`/api/images/myreg.azurecr.io/payments/invoice-worker@${DIGEST}`)
    ).json()) as {
      latest: { scanCount: number };
      history: { items: unknown[] };
    };
    expect(image.latest.scanCount).toBe(2);
    expect(image.history.items).toHaveLength(2);

    const readiness = await fetch(`${recorder.url}/readyz`);
    expect(readiness.status).toBe(200);
    expect(await readiness.json()).toMatchObject({ dependencies: { servicebus: "ok", storage: "ok" } });

    // Polled, each: a result counts once all its rows are written, which may be after /api/stats
    // sees the first of them (the notified row waits for its notification to be queued).
    const metrics = async () => await (await fetch(`${recorder?.url}/metrics`)).text();
    await expect
      .poll(metrics, { timeout: 30_000 })
      .toMatch(/recorder_messages_dead_lettered_total\{reason="InvalidMessage"[^}]*\} 1/);
    await expect
      .poll(metrics, { timeout: 30_000 })
      .toMatch(/recorder_results_recorded_total\{status="succeeded"[^}]*\} 1/);
    await expect
      .poll(metrics, { timeout: 30_000 })
      .toMatch(/recorder_results_recorded_total\{status="failed"[^}]*\} 1/);

    const running = recorder;
    recorder = undefined;
    await running.shutdown();
    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
  });
});
