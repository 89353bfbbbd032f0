import { describe, expect, it } from "vitest";
import type { Inventory } from "../../src/core/coverage.ts";
import { CoverageReport } from "../../src/core/coverageReport.ts";

const SUBSCRIPTION = "aaaaaaaa-0000-4000-8000-000000000001";
const workload = (name: string) => ({
  resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/containerApps/${name}`,
  subscriptionId: SUBSCRIPTION,
  resourceGroup: "rg",
  name,
  kind: "aca",
  images: [{ container: "main", ref: `docker.io/library/${name}:1` }],
});

/** Workloads whose next reading the test releases by hand. */
class ControlledWorkloads {
  readings = 0;
  workloads = [workload("one")];
  #release: Array<(value: Inventory) => void> = [];
  #fail: Array<(error: Error) => void> = [];
  inventory(): Promise<Inventory> {
    this.readings += 1;
    return new Promise((resolve, reject) => {
      this.#release.push(resolve);
      this.#fail.push(reject);
    });
  }
  release() {
    this.#fail.shift();
    this.#release.shift()?.({ workloads: [...this.workloads], lastSweepAt: undefined });
  }
  fail() {
    this.#release.shift();
    this.#fail.shift()?.(new Error("storage down"));
  }
}

const states = { allStates: async () => () => undefined };

function report(
  workloads: ControlledWorkloads,
  cacheMs: number,
  clock: { now: number },
  failures: unknown[],
) {
  return new CoverageReport({
    workloads,
    states,
    sloHours: 30,
    cacheMs,
    onRefreshFailed: (error) => failures.push(error),
    now: () => clock.now,
  });
}

describe("CoverageReport", () => {
  it("keeps answering with an expired reading while the next one is read, then with the new one", async () => {
    const clock = { now: 1_000_000 };
    const workloads = new ControlledWorkloads();
    const coverage = report(workloads, 60_000, clock, []);
    const first = coverage.get();
    workloads.release();
    expect((await first).coverage.totals.workloads).toBe(1);

    workloads.workloads.push(workload("two"));
    clock.now += 60_000;
    const during = await coverage.get();
    expect(during.coverage.totals.workloads).toBe(1);
    expect(during.computedAt.getTime()).toBe(1_000_000);
    expect(workloads.readings).toBe(2);
    await coverage.get();
    expect(workloads.readings).toBe(2);

    workloads.release();
    await expect.poll(async () => (await coverage.get()).coverage.totals.workloads).toBe(2);
    expect((await coverage.get()).computedAt.getTime()).toBe(1_060_000);
  });

  it("reports a failed reading once and keeps the previous one, then reads again when asked", async () => {
    const clock = { now: 0 };
    const workloads = new ControlledWorkloads();
    const failures: unknown[] = [];
    const coverage = report(workloads, 1_000, clock, failures);
    const first = coverage.get();
    workloads.release();
    await first;
    clock.now += 1_000;
    await coverage.get();
    await coverage.get();
    workloads.fail();
    await expect.poll(() => failures.length).toBe(1);
    expect((await coverage.get()).computedAt.getTime()).toBe(0);
    expect(workloads.readings).toBe(3);
  });

  it("reads for every asker with a cache period of 0", async () => {
    const clock = { now: 0 };
    const workloads = new ControlledWorkloads();
    const coverage = report(workloads, 0, clock, []);
    const first = coverage.get();
    workloads.release();
    await first;
    workloads.workloads.push(workload("two"));
    const second = coverage.get();
    workloads.release();
    expect((await second).coverage.totals.workloads).toBe(2);
  });
});
