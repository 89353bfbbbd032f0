/**
 * Malformed input (issue 15): every malformed record becomes a counted skip with a reason, never an
 * exception, and never holds back or sinks the good records around it.
 */
import { describe, expect, it } from "vitest";
import { BatchProcessor } from "../../src/core/batchProcessor.ts";
import { NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { parseEventBody } from "../../src/core/parseBody.ts";
import { RecentRequests } from "../../src/core/recentRequests.ts";
import { AttemptMemory } from "../../src/core/replay.ts";
import { selectRecord } from "../../src/core/select.ts";
import { InMemoryArm, InMemoryQueue, InMemoryWorkloads } from "../support/fakes.ts";
import { activityLogRecord, samples } from "../support/fixtures.ts";
import { captureLogs } from "../support/logs.ts";

const signal = new AbortController().signal;

describe("CloudEvents specversion", () => {
  const cloudEvent = (specversion: unknown) => ({ ...samples.cloudEvent(), specversion });

  it.each([
    ["0.3", "specversion 0.3"],
    ["1.0.1", "specversion 1.0.1"],
    ["1", "specversion 1,"],
    [1, "specversion a number"],
    [null, "specversion null"],
  ])("skips a CloudEvent with specversion %j as unsupported-specversion", (version, detail) => {
    const [item] = parseEventBody(JSON.stringify(cloudEvent(version)));
    expect(item).toMatchObject({ ok: false, reason: "unsupported-specversion" });
    expect(item?.ok === false && item.detail).toContain(detail);
  });

  it("skips only the event with another version in an array, and reads 1.0", () => {
    const items = parseEventBody(JSON.stringify([cloudEvent("0.3"), cloudEvent("1.0")]));
    expect(items.map((item) => (item.ok ? "read" : item.reason))).toEqual([
      "unsupported-specversion",
      "read",
    ]);
  });
});

describe("event times outside years 0000-9999", () => {
  const app = String(samples.armContainerApp().id);
  const writeAt = (time: string) => ({
    records: [
      activityLogRecord({ resourceId: app, operationName: "Microsoft.App/containerApps/write", time }),
    ],
  });

  it.each([
    "+275760-09-13T00:00:00Z",
    "-000001-01-01T00:00:00Z",
    "Sat Jan 01 10000 00:00:00 GMT",
    "yesterday",
  ])("skips a record with time %j as invalid-time", (time) => {
    const [item] = parseEventBody(writeAt(time));
    if (!item?.ok) throw new Error("the record itself is well-formed");
    expect(selectRecord(item.record, NO_EXCLUSIONS)).toMatchObject({ skipped: "invalid-time" });
  });

  it.each([123, true, { value: "2025-03-14T09:21:11Z" }])(
    "skips a record or event whose time is %j, not a string, as invalid-time",
    (time) => {
      const [record] = parseEventBody({ records: [{ ...writeAt("2025-03-14T09:21:11Z").records[0], time }] });
      expect(record).toMatchObject({ ok: false, reason: "invalid-time" });
      const [event] = parseEventBody({ ...samples.cloudEvent(), time });
      expect(event).toMatchObject({ ok: false, reason: "invalid-time" });
    },
  );

  it.each(["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z"])(
    "requests the image of a record with time %j, the edge of the range",
    async (time) => {
      const { queue, processor } = setup();
      const result = await processor.process([writeAt(time)], signal);
      expect(result.stats.skipped).toEqual({});
      expect(queue.bodies()[0]?.sources[0]).toMatchObject({
        eventTime: new Date(Date.parse(time)).toISOString(),
      });
    },
  );

  it("requests the images of the good events around a bad one in one attempt, as if it were not there", async () => {
    const good = [samples.activityLogAci(), samples.cloudEvent()];
    const clean = setup();
    await clean.processor.process(good, signal);

    const { queue, processor } = setup();
    const result = await processor.process([good[0], writeAt("+275760-09-13T00:00:00Z"), good[1]], signal);
    expect(refs(queue)).toEqual(refs(clean.queue));
    expect(result).toMatchObject({ checkpointIndex: 2, retryFrom: undefined, unsettled: [] });
    expect(result.stats.skipped["invalid-time"]).toBe(1);
  });
});

describe("a request the contract refuses", () => {
  it("drops that image only, counts it once under invalid-request, and sends the others", async () => {
    let ids = 0;
    // A defective ID source for the second request: the contract requires a UUID.
    const { queue, processor, logs } = setup({
      newId: () => (++ids === 2 ? "not-a-uuid" : `00000000-0000-4000-8000-${String(ids).padStart(12, "0")}`),
    });
    const memory = new AttemptMemory();
    const result = await processor.process([samples.activityLogAci()], signal, memory);
    expect(result).toMatchObject({ checkpointIndex: 0, retryFrom: undefined, unsettled: [] });
    expect(result.stats.imagesDropped["invalid-request"]).toBe(1);
    expect(queue.messages).toHaveLength(2);
    expect(logs.find("invalid scan request")).toHaveLength(1);
    expect(logs.find("invalid scan request")[0]?.reason).toContain("requestId");

    // A replay of the same events (another event failed) does not count it again.
    const replay = await processor.process([samples.activityLogAci()], signal, memory);
    expect(replay.stats.imagesDropped["invalid-request"]).toBe(0);
  });
});

function setup(options: { newId?: () => string } = {}) {
  const queue = new InMemoryQueue();
  const logs = captureLogs();
  let ids = 0;
  const processor = new BatchProcessor({
    lookup: new InMemoryArm([samples.armContainerGroup(), samples.armContainerApp(), samples.armJob()]),
    sink: queue,
    workloads: new InMemoryWorkloads(),
    exclusions: NO_EXCLUSIONS,
    recent: new RecentRequests(0),
    logger: logs.logger,
    lookupConcurrency: 4,
    now: () => new Date("2025-03-14T12:10:00.000Z"),
    newId: options.newId ?? (() => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`),
  });
  return { queue, logs, processor };
}

function refs(queue: InMemoryQueue): string[] {
  return queue.messages.map((message) => message.body.image.ref).sort();
}
