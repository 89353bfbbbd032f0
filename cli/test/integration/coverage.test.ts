/**
 * `scanctl coverage` against the recorder itself (its `startRecorder`, over a socket) on Azurite
 * and the Service Bus emulator: scans arrive as the scanner publishes them, and Workloads rows are
 * seeded in the shared contract's shape, as ingest and its sweep write them.
 */
import { ServiceBusClient } from "@azure/service-bus";
import { type RunningAzurite, type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { startRecorder } from "@qcs/recorder";
import {
  buildScanCompletedMessage,
  CoverageSchema,
  parseImageRef,
  type WorkloadEntity,
  workloadKey,
} from "@qcs/shared";
import { createTableClient, type RunningService } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";
import { brokerConfig, scanResult } from "../support/serviceBus.ts";

const API_KEY = "test-recorder-key-0123456789-abcdefghij";
const SUB_A = "aaaaaaaa-0000-4000-8000-00000000000a";
const SUB_B = "bbbbbbbb-0000-4000-8000-00000000000b";
const SCANNED = "docker.io/library/nginx:1.27";
const UNSCANNED = "myacr.azurecr.io/team/batch:5";

function workload(subscriptionId: string, name: string, refs: string[]): WorkloadEntity {
  const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/${name}`;
  const now = new Date();
  return {
    ...workloadKey(resourceId, subscriptionId),
    ResourceId: resourceId,
    SubscriptionId: subscriptionId,
    ResourceGroup: "rg",
    Name: name,
    Kind: "aci",
    Images: JSON.stringify(
      refs.map((ref) => ({ container: name, ref: parseImageRef(ref).ref, init: false })),
    ),
    FirstSeenAt: now,
    LastSeenAt: now,
    SeenBy: "sweep",
  };
}

describe("scanctl coverage against the recorder", () => {
  let broker: RunningServiceBusEmulator;
  let azurite: RunningAzurite;
  let recorder: RunningService;
  let env: Record<string, string>;

  beforeAll(async () => {
    [broker, azurite] = await Promise.all([
      startServiceBusEmulator({ config: brokerConfig({ lockDuration: "PT30S", maxDeliveryCount: 5 }) }),
      sharedAzurite(),
    ]);
    recorder = await startRecorder({
      env: {
        SERVICEBUS_CONNECTION_STRING: broker.connectionString,
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        RECORDER_API_KEY: API_KEY,
        COVERAGE_CACHE_SECONDS: "0",
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "silent",
      },
    });
    env = { RECORDER_URL: recorder.url, RECORDER_API_KEY: API_KEY };
    const client = new ServiceBusClient(broker.connectionString);
    const sender = client.createSender("scan-completed");
    await sender.sendMessages(buildScanCompletedMessage(scanResult(SCANNED)));
    await client.close();
    await waitFor(
      async () => (await scanctl(["scans", "list", "--json"], env)).json<{ items: unknown[] }>(),
      "the scan recorded",
      { until: (page) => page.items.length === 1 },
    );
  });

  afterAll(async () => {
    await recorder?.shutdown();
    await Promise.allSettled([broker?.close(), azurite?.stop()]);
  });

  const seed = async (...rows: WorkloadEntity[]) => {
    const table = createTableClient(
      { kind: "connectionString", connectionString: azurite.connectionString },
      "Workloads",
      () => {
        throw new Error("no credential needed");
      },
    );
    await table.createTable();
    for (const row of rows) await table.upsertEntity(row);
  };

  it("exits 0 with zero totals when no workload is known yet", async () => {
    const run = await scanctl(["coverage", "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(CoverageSchema.parse(run.json()).totals).toEqual({
      workloads: 0,
      images: 0,
      current: 0,
      stale: 0,
      failing: 0,
      neverScanned: 0,
    });
  });

  it("prints the totals and one line per image, and exits 1 while any image is not current", async () => {
    await seed(workload(SUB_A, "web", [SCANNED]), workload(SUB_B, "batch", [SCANNED, UNSCANNED]));

    const human = await scanctl(["coverage"], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      "2 workloads run 2 images: 1 current, 0 stale, 0 failing, 1 never scanned (SLO 30 h)",
    );
    expect(human.stdout).toMatch(/STATE\s+IMAGE\s+LAST SCAN\s+WORKLOADS\s+CRIT\s+HIGH/);
    expect(human.stdout).toMatch(new RegExp(`current\\s+${SCANNED}\\s+\\S+ ago\\s+2\\s+0\\s+1`));
    expect(human.stdout).toMatch(new RegExp(`neverScanned\\s+${UNSCANNED}\\s+never\\s+1\\s+-\\s+-`));
    expect(human.stderr.trim()).toBe("scanctl: 1 of 2 running images are not current");

    const json = await scanctl(["coverage", "--state", "neverScanned", "--json"], env);
    expect(json.code).toBe(1);
    const body = CoverageSchema.parse(json.json());
    expect(body.items.map((item) => item.ref)).toEqual([UNSCANNED]);
    expect(body.totals.images).toBe(2);
  });

  it("gates on one subscription's images with --subscription", async () => {
    const run = await scanctl(["coverage", "--subscription", SUB_A], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("1 workloads run 1 images: 1 current");
  });

  it("documents its exit status and refuses an unknown state", async () => {
    const help = await scanctl(["coverage", "--help"], env);
    expect(help.stdout).toContain("Exit status: 0 when every running image");
    expect((await scanctl(["coverage", "--state", "fine"], env)).code).toBe(2);
  });
});
