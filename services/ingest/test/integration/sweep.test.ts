/**
 * The sweep over sockets with the official SDKs: Resource Graph on the ARM emulator (small pages,
 * a throttled answer), `Workloads` on Azurite, requests on the Service Bus emulator.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import {
  type RunningArmEmulator,
  type RunningAzurite,
  type RunningServiceBusEmulator,
  startArmEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import {
  loadServiceConfig,
  parseScanRequestedMessage,
  parseWorkloadEntity,
  type ScanRequested,
  SWEEP_MARKER_KEY,
  SweepMarkerEntitySchema,
  sweepConfigSpec,
  type WorkloadEntity,
  workloadImagesOf,
} from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepFromConfig } from "../../src/sweep.ts";
import { ARM_TOKEN } from "../support/arm.ts";
import { SUBSCRIPTION, samples } from "../support/fixtures.ts";

const SUB_B = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const QUEUE = "scan-requests-sweep";
const ENTRY = new URL("../../src/sweep.ts", import.meta.url).pathname;

/** A copy of an ARM document in another subscription and under another name. */
function copyOf(document: Record<string, unknown>, subscription: string, suffix: string) {
  const id = String(document.id).replace(SUBSCRIPTION, subscription);
  return { ...document, id: `${id}${suffix}`, name: `${String(document.name)}${suffix}` };
}
const INVENTORY = [
  samples.armContainerGroup(),
  samples.armContainerApp(),
  samples.armJob(),
  copyOf(samples.armContainerApp(), SUB_B, "-b"),
  copyOf(samples.armJob(), SUB_B, "-b"),
];

describe("the sweep", () => {
  let arm: RunningArmEmulator;
  let azurite: RunningAzurite;
  let serviceBus: RunningServiceBusEmulator;
  let client: ServiceBusClient;
  let table: TableClient;
  let dir: string;
  let env: Record<string, string>;
  const logger = createLogger({ name: "sweep-test", level: "warn", format: "json" });

  beforeAll(async () => {
    [arm, azurite, serviceBus] = await Promise.all([
      startArmEmulator({ inventory: INVENTORY as never, token: ARM_TOKEN, resourceGraphPageSize: 2 }),
      sharedAzurite(),
      startServiceBusEmulator(),
    ]);
    dir = await mkdtemp(join(tmpdir(), "qcs-sweep-"));
    await writeFile(join(dir, "arm-ca.pem"), arm.ca);
    env = {
      SERVICEBUS_CONNECTION_STRING: serviceBus.connectionString,
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      ARM_ENDPOINT: arm.url,
      ARM_TOKEN,
      ARM_CA_FILE: join(dir, "arm-ca.pem"),
      SWEEP_SUBSCRIPTIONS: `${SUBSCRIPTION},${SUB_B}`,
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
    };
    client = new ServiceBusClient(serviceBus.connectionString);
    table = TableClient.fromConnectionString(azurite.connectionString, "Workloads", {
      allowInsecureConnection: true,
    });
  });
  afterAll(async () => {
    await client?.close();
    await Promise.allSettled([arm?.close(), azurite?.stop(), serviceBus?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sweep = (overrides: Record<string, string> = {}, dryRun = false) =>
    sweepFromConfig(loadServiceConfig(sweepConfigSpec, { ...env, ...overrides }).config, { dryRun, logger });
  const rows = async (): Promise<WorkloadEntity[]> => {
    const all: WorkloadEntity[] = [];
    for await (const row of table.listEntities()) {
      if (row.partitionKey !== SWEEP_MARKER_KEY.partitionKey) all.push(parseWorkloadEntity(row));
    }
    return all;
  };
  /** Every request on the queue now (bounded: stops after 3 s without a message). */
  const drain = async (): Promise<ScanRequested[]> => {
    const receiver = client.createReceiver(QUEUE, { receiveMode: "receiveAndDelete" });
    const bodies: ScanRequested[] = [];
    for (;;) {
      const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 3000 });
      if (batch.length === 0) break;
      bodies.push(...batch.map(parseScanRequestedMessage));
    }
    await receiver.close();
    return bodies;
  };

  it("pages two subscriptions through a throttled Resource Graph, fills Workloads, sends one sweep request per image", async () => {
    arm.faults.add({
      path: "/providers/Microsoft.ResourceGraph/resources",
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const seen = arm.requests.length;
    const summary = await sweep();
    const graphCalls = arm.requests.slice(seen).map((request) => request.status);
    expect(graphCalls[0]).toBe(429);
    expect(graphCalls.slice(1).every((status) => status === 200)).toBe(true);
    expect(summary).toMatchObject({ pages: 3, workloads: 5, inserted: 5, updated: 0, deleted: 0 });
    expect(summary.subscriptions).toEqual([SUBSCRIPTION, SUB_B]);
    const marker = SweepMarkerEntitySchema.parse(
      await table.getEntity(SWEEP_MARKER_KEY.partitionKey, SWEEP_MARKER_KEY.rowKey),
    );
    expect(marker.FinishedAt.getTime()).toBeGreaterThan(Date.now() - 120_000);

    const stored = await rows();
    expect(stored.map((row) => [row.partitionKey, row.Name, row.SeenBy]).sort()).toEqual(
      INVENTORY.map((doc) => [
        String(doc.id).includes(SUB_B) ? SUB_B : SUBSCRIPTION,
        String(doc.name),
        "sweep",
      ]).sort(),
    );
    const images = new Set(stored.flatMap((row) => workloadImagesOf(row).map((image) => image.ref)));
    expect(stored.some((row) => workloadImagesOf(row).some((image) => image.init))).toBe(true);

    const requests = await drain();
    expect(summary).toMatchObject({ images: images.size, requestsSent: images.size });
    expect(new Set(requests.map((request) => request.image.ref))).toEqual(images);
    expect(requests).toHaveLength(images.size);
    expect(requests.flatMap((request) => request.sources.map((source) => source.kind))).toSatisfy(
      (kinds: string[]) => kinds.every((kind) => kind === "sweep"),
    );
  });

  it("removes the row of a workload that disappeared and keeps the others' first sighting", async () => {
    const before = new Map((await rows()).map((row) => [row.ResourceId, row.FirstSeenAt.getTime()]));
    const gone = String(INVENTORY[3]?.id);
    expect(arm.remove(gone)).toBe(true);
    const dry = await sweep({}, true);
    expect(dry).toMatchObject({ dryRun: true, deleted: 1, requestsSent: 0 });
    expect((await rows()).map((row) => row.ResourceId)).toContain(gone);

    const summary = await sweep();
    expect(summary).toMatchObject({ workloads: 4, inserted: 0, updated: 4, deleted: 1 });
    const after = await rows();
    expect(after.map((row) => row.ResourceId)).not.toContain(gone);
    for (const row of after) expect(row.FirstSeenAt.getTime()).toBe(before.get(row.ResourceId));
    await drain();
  });

  it("runs as a process: --json prints the summary and exits 0; bad configuration exits 1 with one line", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [ENTRY, "--json"], {
      env: { ...process.env, ...env, SWEEP_SUBSCRIPTIONS: SUB_B },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ subscriptions: [SUB_B], workloads: 1, dryRun: false });
    await drain();

    const failed = await run(process.execPath, [ENTRY], {
      env: { ...process.env, ...env, SWEEP_SUBSCRIPTIONS: "not-a-subscription" },
      timeout: 60_000,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    const stderr = (failed as { stderr: string }).stderr.trim();
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^sweep failed: .*SWEEP_SUBSCRIPTIONS/);
  }, 120_000);
});
