/** Log volume is bounded by the number of reasons, not by the size of the input (issue 15). */
import { describe, expect, it } from "vitest";
import { BatchProcessor } from "../../src/core/batchProcessor.ts";
import { NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import { InMemoryArm, InMemoryQueue, InMemoryWorkloads } from "../support/fakes.ts";
import { activityLogRecord, samples } from "../support/fixtures.ts";
import { captureLogs } from "../support/logs.ts";

const signal = new AbortController().signal;

function setup(arm = new InMemoryArm([samples.armContainerGroup()])) {
  const logs = captureLogs("debug");
  const processor = new BatchProcessor({
    lookup: arm,
    sink: new InMemoryQueue(),
    workloads: new InMemoryWorkloads(),
    exclusions: NO_EXCLUSIONS,
    recent: new RecentRequests(300_000),
    logger: logs.logger,
    lookupConcurrency: 4,
  });
  return { logs, processor };
}

describe("log volume of malformed input", () => {
  it("writes 3 samples and one summary for {records: [0 x 10,000]}, and counts all 10,000", async () => {
    const { logs, processor } = setup();
    const result = await processor.process([{ records: new Array(10_000).fill(0) }], signal);
    expect(result.stats.skipped).toEqual({ "unknown-shape": 10_000 });
    expect(logs.lines).toHaveLength(4);
    expect(logs.find("malformed record skipped")).toHaveLength(3);
    expect(logs.find("left out")).toEqual([
      expect.objectContaining({ counts: { "unknown-shape": 10_000 }, samplesPerReason: 3 }),
    ]);
  });

  it("samples each reason of a batch on its own, across events, with one summary for the batch", async () => {
    const { logs, processor } = setup();
    const badTime = activityLogRecord({
      resourceId: String(samples.armContainerGroup().id),
      operationName: "Microsoft.ContainerInstance/containerGroups/write",
      time: "+275760-09-13T00:00:00Z",
    });
    const events = [
      { records: [0, 0, 0, 0, 0] },
      { records: [badTime, badTime, badTime, badTime] },
      "not json",
      { records: [0, 0] },
    ];
    const result = await processor.process(events, signal);
    expect(result.stats.skipped).toEqual({ "unknown-shape": 7, "invalid-time": 4, "not-json": 1 });
    const samplesLogged = logs.find("malformed record skipped").map((line) => line.reason);
    expect(samplesLogged).toEqual([
      "unknown-shape",
      "unknown-shape",
      "unknown-shape",
      "invalid-time",
      "invalid-time",
      "invalid-time",
      "not-json",
    ]);
    expect(logs.find("left out")).toEqual([
      expect.objectContaining({ counts: { "unknown-shape": 7, "invalid-time": 4, "not-json": 1 } }),
    ]);
  });

  it("writes no summary when every malformed record was logged", async () => {
    const { logs, processor } = setup();
    await processor.process([{ records: [0, 0] }], signal);
    expect(logs.find("malformed record skipped")).toHaveLength(2);
    expect(logs.find("left out")).toEqual([]);
  });

  it("samples invalid image references of a batch the same way", async () => {
    const group = samples.armContainerGroup() as { properties: { containers: unknown[] } };
    group.properties.containers = Array.from({ length: 50 }, (_, index) => ({
      name: `c${index}`,
      properties: { image: `-bad-${index}` },
    }));
    const { logs, processor } = setup(new InMemoryArm([group]));
    const result = await processor.process([samples.activityLogAci()], signal);
    expect(result.stats.imagesDropped["invalid-reference"]).toBe(50);
    expect(logs.find("invalid image reference")).toHaveLength(3);
    expect(logs.find("left out")).toEqual([expect.objectContaining({ counts: { "invalid-reference": 50 } })]);
  });
});
