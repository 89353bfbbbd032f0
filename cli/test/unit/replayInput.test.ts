import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseReplayInput, replayTotals, splitActivityLogBody } from "../../src/core/replayInput.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/events/${name}`, import.meta.url), "utf8");

describe("replay input", () => {
  it("sends an Activity Log body as one event with all its records", () => {
    const parsed = parseReplayInput(fixture("aci-write.json"));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.bodies).toHaveLength(1);
    expect(parsed.bodies[0]?.kind).toBe("activity-log");
    expect(parsed.bodies[0]?.count).toBe((JSON.parse(fixture("aci-write.json")).records as unknown[]).length);
  });

  it("sends each Event Grid event of an array as its own event", () => {
    const parsed = parseReplayInput(fixture("resource-write-success.json"));
    if (!parsed.ok) throw new Error(parsed.reason);
    const events = JSON.parse(fixture("resource-write-success.json")) as unknown[];
    expect(parsed.bodies.map((body) => body.kind)).toEqual(events.map(() => "event-grid"));
    expect(parsed.bodies.map((body) => body.body)).toEqual(events);
  });

  it("accepts a single CloudEvent", () => {
    const parsed = parseReplayInput(fixture("resource-write-success.cloudevents.json"));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(replayTotals(parsed.bodies)).toEqual({
      events: 1,
      activityLogRecords: 0,
      eventGridEvents: 0,
      cloudEvents: 1,
    });
  });

  it("gathers JSON Lines of bare Activity Log records (a Storage export) into one body", () => {
    const records = JSON.parse(fixture("aca-write.json")).records as object[];
    const parsed = parseReplayInput(`${records.map((record) => JSON.stringify(record)).join("\n")}\n`);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.bodies).toEqual([{ kind: "activity-log", body: { records }, count: records.length }]);
  });

  it("refuses invalid JSON, saying so", () => {
    const parsed = parseReplayInput('{"records": [');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/not valid JSON/);
  });

  it("refuses JSON of another shape and empty input", () => {
    expect(parseReplayInput('{"hello": "world"}')).toMatchObject({ ok: false });
    expect(parseReplayInput('[{"eventType": "x"}, 42]')).toMatchObject({
      ok: false,
      reason: "item 2 is not a JSON object",
    });
    expect(parseReplayInput("  \n")).toMatchObject({ ok: false, reason: "is empty" });
    expect(parseReplayInput('{"records": []}')).toMatchObject({
      ok: false,
      reason: "contains no records or events",
    });
  });

  it("splits an Activity Log body in halves, keeping the records in order", () => {
    const body = {
      kind: "activity-log" as const,
      body: { records: [1, 2, 3].map((n) => ({ n })) },
      count: 3,
    };
    const halves = splitActivityLogBody(body);
    expect(halves?.map((half) => half.body.records)).toEqual([[{ n: 1 }, { n: 2 }], [{ n: 3 }]]);
    expect(splitActivityLogBody({ ...body, body: { records: [{ n: 1 }] }, count: 1 })).toBeUndefined();
  });
});
