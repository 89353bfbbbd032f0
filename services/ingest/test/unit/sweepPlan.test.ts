import { scanRequestMessageId, workloadKey } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { MAX_BATCH_ACTIONS, planReconciliation, sweepRequests } from "../../src/core/sweep.ts";
import type { WorkloadRow } from "../../src/core/workloads.ts";

const SUB_A = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const SUB_B = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const at = new Date("2026-01-01T00:00:00Z");

function row(subscription: string, name: string, refs: string[] = []): WorkloadRow {
  const resourceId = `/subscriptions/${subscription}/resourceGroups/rg/providers/Microsoft.App/containerApps/${name}`;
  return {
    ...workloadKey(resourceId, subscription),
    ResourceId: resourceId,
    SubscriptionId: subscription,
    ResourceGroup: "rg",
    Name: name,
    Kind: "aca",
    Images: JSON.stringify(refs.map((ref, index) => ({ container: `c${index}`, ref, init: false }))),
    LastSeenAt: at,
    SeenBy: "sweep",
  };
}

describe("reconciling Workloads with a sweep's listing", () => {
  it("inserts what is new, updates what is known, removes what the swept partitions hold and the listing lacks", () => {
    const kept = row(SUB_A, "kept");
    const added = row(SUB_A, "added");
    const gone = row(SUB_A, "gone");
    const plan = planReconciliation(
      [kept, added, kept],
      new Map([[SUB_A, new Set([kept.rowKey, gone.rowKey])]]),
    );
    expect(plan).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    expect(plan.batches).toEqual([
      [
        { op: "upsert", row: kept, insert: false },
        { op: "upsert", row: added, insert: true },
        { op: "delete", key: { partitionKey: SUB_A, rowKey: gone.rowKey } },
      ],
    ]);
  });

  it("never touches a partition it did not sweep", () => {
    const plan = planReconciliation([row(SUB_A, "a")], new Map([[SUB_A, new Set<string>()]]));
    expect(plan.batches.flat().every((action) => action.op === "upsert")).toBe(true);
  });

  it("cuts batches of at most 100 actions, each within one partition", () => {
    const found = [
      ...Array.from({ length: 250 }, (_, i) => row(SUB_A, `a-${i}`)),
      ...Array.from({ length: 3 }, (_, i) => row(SUB_B, `b-${i}`)),
    ];
    const plan = planReconciliation(found, new Map([[SUB_B, new Set(["stale"])]]));
    expect(plan.batches.map((batch) => batch.length)).toEqual([MAX_BATCH_ACTIONS, MAX_BATCH_ACTIONS, 50, 4]);
    for (const batch of plan.batches) {
      const partitions = new Set(
        batch.map((action) => (action.op === "delete" ? action.key.partitionKey : action.row.partitionKey)),
      );
      expect(partitions.size).toBe(1);
    }
  });
});

describe("the sweep's requests", () => {
  const refs = ["registry.example/shop/api:1.0", "registry.example/shop/web:2.0"];
  let ids = 0;
  const run = (runId: string) => ({
    runId,
    now: at,
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
  });

  it("sends one request per distinct image, its sources the workloads running it, kind sweep", () => {
    const messages = sweepRequests(
      [row(SUB_A, "one", refs), row(SUB_B, "two", [refs[0] as string])],
      run("r1"),
    );
    expect(messages.map((message) => message.body.image.ref).sort()).toEqual(refs.sort());
    const api = messages.find((message) => message.body.image.ref === refs[0]);
    expect(
      api?.body.sources.map((source) => [source.kind, "resourceName" in source && source.resourceName]),
    ).toEqual([
      ["sweep", "one"],
      ["sweep", "two"],
    ]);
  });

  it("keys each message by image and run: repeats within a sweep collapse, the next sweep's get through", () => {
    const [first] = sweepRequests([row(SUB_A, "one", [refs[0] as string])], run("r1"));
    const [again] = sweepRequests([row(SUB_A, "one", [refs[0] as string])], run("r1"));
    const [next] = sweepRequests([row(SUB_A, "one", [refs[0] as string])], run("r2"));
    expect(first?.messageId).toBe(again?.messageId);
    expect(first?.messageId).not.toBe(next?.messageId);
    expect(first?.messageId).not.toBe(scanRequestMessageId(first?.body.image ?? { ref: "" }));
  });

  it("keeps at most 100 sources per request", () => {
    const rows = Array.from({ length: 120 }, (_, i) => row(SUB_A, `w-${i}`, [refs[0] as string]));
    const [message] = sweepRequests(rows, run("r3"));
    expect(message?.body.sources).toHaveLength(100);
  });
});
