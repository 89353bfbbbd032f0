/**
 * `scanctl status` and `scanctl scans` against the real thing: the Service Bus emulator with its
 * management API, Azurite, and the recorder service itself (its `startRecorder`), which records
 * ScanCompleted results sent to the topic as the scanner sends them.
 */
import { ServiceBusClient } from "@azure/service-bus";
import { type RunningAzurite, type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { startRecorder } from "@qcs/recorder";
import { buildScanCompletedMessage, buildScanRequestedMessage, type ScanCompleted } from "@qcs/shared";
import type { RunningService } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";
import { brokerConfig, deadLetterRequests, scanRequest, scanResult } from "../support/serviceBus.ts";

const API_KEY = "test-recorder-key-0123456789-abcdefghij";

interface StatusJson {
  entities: Array<{ entity: string; active: number; scheduled: number; deadLettered: number }>;
  lastScanAt: string | null;
  recorder: string;
}

describe("scanctl status and scans against the emulators and the recorder", () => {
  let broker: RunningServiceBusEmulator;
  let azurite: RunningAzurite;
  let recorder: RunningService;
  let client: ServiceBusClient;
  let env: Record<string, string>;
  const results: ScanCompleted[] = [];

  beforeAll(async () => {
    [broker, azurite] = await Promise.all([
      startServiceBusEmulator({
        config: brokerConfig({ lockDuration: "PT30S", maxDeliveryCount: 5 }),
        adminPort: 0,
      }),
      sharedAzurite(),
    ]);
    recorder = await startRecorder({
      env: {
        SERVICEBUS_CONNECTION_STRING: broker.connectionString,
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        RECORDER_API_KEY: API_KEY,
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "silent",
      },
    });
    client = new ServiceBusClient(broker.connectionString);
    env = {
      SERVICEBUS_CONNECTION_STRING: broker.connectionString,
      SERVICEBUS_EMULATOR_ADMIN_PORT: String(broker.adminPort),
      RECORDER_URL: recorder.url,
      RECORDER_API_KEY: API_KEY,
    };

    const clean = scanResult("docker.io/library/nginx:1.27");
    const failed: ScanCompleted = {
      ...scanResult("myacr.azurecr.io/team/api:2.1"),
      status: "failed",
      vulnerabilities: undefined,
      error: { class: "RegistryAuthFailed", message: "401 from the registry" },
      finishedAt: new Date(Date.now() + 1000).toISOString(),
    };
    results.push(clean, failed);
    const sender = client.createSender("scan-completed");
    await sender.sendMessages(results.map((result) => buildScanCompletedMessage(result)));
    await sender.close();
  });

  afterAll(async () => {
    await client?.close();
    await recorder?.shutdown();
    await Promise.allSettled([broker?.close(), azurite?.stop()]);
  });

  it("lists the recorded scans once the recorder has them", async () => {
    const listed = await waitFor(
      async () =>
        (await scanctl(["scans", "list", "--json"], env)).json<{
          items: Array<{ ref: string; status: string }>;
        }>(),
      "two recorded scans",
      { until: (page) => page.items.length === 2 },
    );
    expect(listed.items.map((item) => [item.ref, item.status]).sort()).toEqual([
      ["docker.io/library/nginx:1.27", "succeeded"],
      ["myacr.azurecr.io/team/api:2.1", "failed"],
    ]);
    const failed = (await scanctl(["scans", "list", "--status", "failed", "--json"], env)).json<{
      items: Array<{ ref: string; error: { class: string } }>;
    }>();
    expect(failed.items).toMatchObject([
      { ref: "myacr.azurecr.io/team/api:2.1", error: { class: "RegistryAuthFailed" } },
    ]);
    const human = await scanctl(["scans", "list"], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/IMAGE\s+STATUS\s+LAST SCAN\s+CRIT\s+HIGH\s+MED\s+LOW/);
    expect(human.stdout).toContain("failed (RegistryAuthFailed)");
  });

  it("shows one image with its history, by the reference as deployed", async () => {
    const shown = await scanctl(["scans", "show", "nginx:1.27", "--json"], env);
    expect(shown.code).toBe(0);
    const detail = shown.json<{
      ref: string;
      latest: { vulnerabilities: { high: number } };
      history: { items: Array<{ scanId: string }> };
    }>();
    expect(detail.ref).toBe("docker.io/library/nginx:1.27");
    expect(detail.latest.vulnerabilities.high).toBe(1);
    expect(detail.history.items.map((item) => item.scanId)).toEqual([results[0]?.scanId]);
    const human = await scanctl(["scans", "show", "nginx:1.27"], env);
    expect(human.stdout).toContain("findings:       critical 0, high 1, medium 2, low 3");
  });

  it("says so when an image has no scan, and when the key is wrong", async () => {
    const missing = await scanctl(["scans", "show", "busybox:never"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe("scanctl: no scan recorded for busybox:never");
    const wrongKey = await scanctl(["scans", "list"], { ...env, RECORDER_API_KEY: "not-the-key-at-all" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("recorder answered 401");
    expect(wrongKey.stderr).not.toContain("not-the-key-at-all");
  });

  it("counts active, scheduled and dead-lettered messages per entity, with the last recorded scan", async () => {
    await deadLetterRequests(client, "scan-requests", [
      {
        body: scanRequest("docker.io/library/gone:1"),
        reason: "ImageNotFound",
        description: "manifest unknown",
      },
      {
        body: scanRequest("docker.io/library/gone:2"),
        reason: "ImageNotFound",
        description: "manifest unknown",
      },
    ]);
    const sender = client.createSender("scan-requests");
    await sender.sendMessages(
      ["a:1", "b:1", "c:1"].map((image) => buildScanRequestedMessage(scanRequest(image))),
    );
    await sender.scheduleMessages(
      buildScanRequestedMessage(scanRequest("later:1")),
      new Date(Date.now() + 3_600_000),
    );
    await sender.close();
    // Sweep requests wait on their own queue, with their own dead letters.
    await deadLetterRequests(client, "scan-requests-sweep", [
      {
        body: scanRequest("docker.io/library/swept:gone"),
        reason: "ImageNotFound",
        description: "manifest unknown",
      },
    ]);
    const sweepSender = client.createSender("scan-requests-sweep");
    await sweepSender.sendMessages(
      ["d:1", "e:1"].map((image) => buildScanRequestedMessage(scanRequest(image))),
    );
    await sweepSender.close();

    // Something the recorder cannot record: it dead-letters it.
    const topic = client.createSender("scan-completed");
    await topic.sendMessages({
      body: { not: "a result" },
      subject: "ScanCompleted",
      contentType: "application/json",
    });
    await topic.close();

    const result = await waitFor(
      () => scanctl(["status", "--json"], env),
      "the recorder to dead-letter the invalid result",
      { until: (run) => run.code !== 0 || run.json<StatusJson>().entities[2]?.deadLettered === 1 },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const status = result.json<StatusJson>();
    expect(status.entities).toEqual([
      { entity: "scan-requests", active: 3, scheduled: 1, deadLettered: 2 },
      { entity: "scan-requests-sweep", active: 2, scheduled: 0, deadLettered: 1 },
      { entity: "scan-completed/recorder", active: 0, scheduled: 0, deadLettered: 1 },
    ]);
    expect(status.lastScanAt).toBe(results[1]?.finishedAt.replace(/(\.\d{3})\d*Z$/, "$1Z"));
    expect(status.recorder).toBe("ok");

    const human = await scanctl(["status"], env);
    expect(human.stdout).toMatch(/scan-requests\s+3\s+1\s+2/);
    expect(human.stdout).toMatch(/scan-requests-sweep\s+2\s+0\s+1/);
    expect(human.stdout).toContain("last recorded scan: ");
  });

  it("still counts without a recorder, and says the management endpoint cannot be reached", async () => {
    const withoutRecorder = await scanctl(["status", "--json"], {
      SERVICEBUS_CONNECTION_STRING: broker.connectionString,
      SERVICEBUS_EMULATOR_ADMIN_PORT: String(broker.adminPort),
    });
    expect(withoutRecorder.code).toBe(0);
    expect(withoutRecorder.json<StatusJson>()).toMatchObject({
      lastScanAt: null,
      recorder: "not configured",
    });

    const wrongPort = await scanctl(["status"], {
      SERVICEBUS_CONNECTION_STRING: broker.connectionString,
      SERVICEBUS_EMULATOR_ADMIN_PORT: "9",
    });
    expect(wrongPort.code).toBe(1);
    expect(wrongPort.stderr.trim().split("\n")).toHaveLength(1);
    expect(wrongPort.stderr).toContain("cannot reach http://127.0.0.1:9");
    expect(wrongPort.stderr).toContain("SERVICEBUS_EMULATOR_ADMIN_PORT");
  });
});
