/**
 * ingest as main.ts wires it, over the Event Hubs emulator, the Service Bus emulator and the local
 * ARM endpoint: a malformed event between two good ones in one batch costs only itself (issue 15).
 */

import type { RunningService } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIngest } from "../../src/main.ts";
import { sendEvents } from "../support/eventHubs.ts";
import { activityLogRecord, samples } from "../support/fixtures.ts";
import { type Stack, startStack } from "../support/stack.ts";

const TUNING = {
  loadBalancing: { updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 5000 },
  replayDelay: { initialMs: 100, maxMs: 500 },
  maxWaitTimeInSeconds: 1,
  armRetryDelayMs: 20,
};

let stack: Stack;
let ingest: RunningService | undefined;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await ingest?.shutdown();
  await stack?.stop();
});

/** Sum of every series of a metric on ingest's /metrics (0 when it has none). */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${ingest?.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/** A container group in the local ARM whose one container has `image` (any JSON value). */
function containerGroup(name: string, image: unknown): string {
  const id = String(samples.armContainerGroup().id).replace("ci-invoice-worker", name);
  stack.arm.put({
    id,
    name,
    type: "Microsoft.ContainerInstance/containerGroups",
    properties: { osType: "Linux", containers: [{ name: "probe", properties: { image } }] },
  } as never);
  return id;
}

const write = (resourceId: string, correlationId: string, time?: string) =>
  activityLogRecord({
    resourceId,
    operationName: "Microsoft.ContainerInstance/containerGroups/write",
    correlationId,
    ...(time === undefined ? {} : { time }),
  });

describe("a malformed event between good ones", () => {
  it("requests both good images in the first attempt at the batch, skips and counts the bad records, gives nothing up", async () => {
    const first = containerGroup("ci-good-first", "contosoprod.azurecr.io/payments/good-first:1");
    const last = containerGroup("ci-good-last", "contosoprod.azurecr.io/payments/good-last:1");
    const farFuture = containerGroup("ci-far-future", "contosoprod.azurecr.io/payments/far-future:1");
    const numberImage = containerGroup("ci-number-image", 123);
    await sendEvents(stack.eventHubs.connectionString, "0", [
      { records: [write(first, "00000000-0000-4000-8000-00000000000a")] },
      {
        records: [
          write(farFuture, "00000000-0000-4000-8000-00000000000b", "+275760-09-13T00:00:00Z"),
          write(numberImage, "00000000-0000-4000-8000-00000000000c"),
          0,
        ],
      },
      { records: [write(last, "00000000-0000-4000-8000-00000000000d")] },
    ]);

    ingest = await startIngest({ env: stack.env({ CHECKPOINT_CONTAINER: "malformed" }), tuning: TUNING });
    const received = await stack.receive(2, 20_000);
    expect(received.map((r) => r.body.image.ref).sort()).toEqual([
      "contosoprod.azurecr.io/payments/good-first:1",
      "contosoprod.azurecr.io/payments/good-last:1",
    ]);
    await waitFor(async () => (await metric("ingest_records_read")) === 5, "all five records to be counted");
    expect(await metric('ingest_records_skipped_total{reason="invalid-time"')).toBe(1);
    expect(await metric('ingest_records_skipped_total{reason="unknown-shape"')).toBe(1);
    expect(await metric('ingest_arm_lookup_failures_total{kind="invalid-arm-document"')).toBe(1);
    expect(await metric("ingest_events_given_up")).toBe(0);
    expect(await metric("ingest_batch_failures")).toBe(0);
    // One attempt: a replay would have looked the malformed document up again.
    expect(stack.arm.requests.filter((r) => r.path === numberImage)).toHaveLength(1);
    expect(stack.arm.requests.filter((r) => r.path === farFuture)).toHaveLength(0);
    expect(await stack.receive(1, 1500)).toEqual([]);
  });
});
