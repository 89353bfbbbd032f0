import { describe, expect, it } from "vitest";
import { type OperationRecord, type ParsedItem, parseEventBody } from "../../src/core/parseBody.ts";
import { activityLogRecord, resourceId, samples } from "../support/fixtures.ts";

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
const records = (items: ParsedItem[]): OperationRecord[] =>
  items.map((item) => {
    if (!item.ok) throw new Error(`unexpected rejection ${item.reason}: ${item.detail}`);
    return item.record;
  });

describe("parsing Activity Log bodies", () => {
  it("reads every record of the ACI sample with lower-cased operation names and ARM-cased resource IDs", () => {
    const parsed = records(parseEventBody(bytes(samples.activityLogAci())));
    expect(parsed.map((record) => record.status)).toEqual(["start", "success", "failure"]);
    expect(parsed[1]).toEqual({
      operationName: "microsoft.containerinstance/containergroups/write",
      resourceId:
        "/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker",
      status: "success",
      eventTime: "2025-03-14T09:21:11.5541870Z",
      correlationId: "b68e55d5-4884-455a-8245-8e83155b7790",
    });
  });

  it("maps Start, Accept and Success of the asynchronous Container Apps write, and the job write", () => {
    const parsed = records(parseEventBody(bytes(samples.activityLogAca())));
    expect(parsed.map((record) => [record.operationName, record.status])).toEqual([
      ["microsoft.app/containerapps/write", "start"],
      ["microsoft.app/containerapps/write", "accept"],
      ["microsoft.app/containerapps/write", "success"],
      ["microsoft.app/jobs/write", "success"],
    ]);
  });

  it("accepts a body the SDK already decoded, and a JSON string", () => {
    expect(records(parseEventBody(samples.activityLogAci()))).toHaveLength(3);
    expect(records(parseEventBody(JSON.stringify(samples.activityLogAci())))).toHaveLength(3);
  });

  it("reads durationMs as a number or a string and ignores unknown fields", () => {
    const record = {
      ...activityLogRecord({
        resourceId: resourceId("rg", "Microsoft.App/jobs", "job-a"),
        operationName: "Microsoft.App/jobs/write",
      }),
      durationMs: "20",
      somethingNew: { nested: [1, 2, 3] },
    };
    const [parsed] = records(parseEventBody(bytes({ records: [record], extra: true })));
    expect(parsed?.status).toBe("success");
  });

  it("keeps resourceId when properties.entity names a different resource", () => {
    const record = activityLogRecord({
      resourceId: resourceId("rg", "Microsoft.App/jobs", "job-a"),
      operationName: "Microsoft.App/jobs/write",
    });
    record.properties = { entity: resourceId("rg", "Microsoft.App/jobs", "another") };
    const [parsed] = records(parseEventBody({ records: [record] }));
    expect(parsed?.resourceId).toBe(resourceId("rg", "Microsoft.App/jobs", "job-a").toUpperCase());
  });

  it("reads the REST shape where operationName and status are { value } objects", () => {
    const record = {
      resourceId: resourceId("rg", "Microsoft.App/jobs", "job-a"),
      operationName: { value: "Microsoft.App/jobs/write", localizedValue: "Create or Update Job" },
      status: { value: "Succeeded" },
      eventTimestamp: "2025-03-14T12:05:19.7740021Z",
    };
    const [parsed] = records(parseEventBody({ records: [record] }));
    expect(parsed).toMatchObject({ operationName: "microsoft.app/jobs/write", status: "success" });
    expect(parsed?.eventTime).toBe("2025-03-14T12:05:19.7740021Z");
  });

  it("falls back to resultSignature when resultType is missing", () => {
    const record = activityLogRecord({
      resourceId: resourceId("rg", "Microsoft.App/jobs", "job-a"),
      operationName: "Microsoft.App/jobs/write",
    });
    delete record.resultType;
    record.resultSignature = "Accepted.Created";
    expect(records(parseEventBody({ records: [record] }))[0]?.status).toBe("accept");
  });

  it("reads 10,000 records in one event", () => {
    const many = Array.from({ length: 10_000 }, (_, index) =>
      activityLogRecord({
        resourceId: resourceId("rg", "Microsoft.Storage/storageAccounts", `sa${index}`),
        operationName: "Microsoft.Storage/storageAccounts/write",
      }),
    );
    const parsed = parseEventBody(bytes({ records: many }));
    expect(parsed).toHaveLength(10_000);
    expect(parsed.every((item) => item.ok)).toBe(true);
  });
});

describe("parsing Event Grid events", () => {
  it("reads an array of Event Grid schema events", () => {
    const parsed = records(parseEventBody(bytes(samples.eventGrid())));
    expect(parsed.map((record) => [record.operationName, record.status, record.correlationId])).toEqual([
      [
        "microsoft.containerinstance/containergroups/write",
        "success",
        "b68e55d5-4884-455a-8245-8e83155b7790",
      ],
      ["microsoft.app/containerapps/write", "success", "87525956-2487-451a-a4ef-8affca33d56d"],
    ]);
    expect(parsed[0]?.resourceId).toBe(
      "/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourcegroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker",
    );
  });

  it("reads a single CloudEvents 1.0 event", () => {
    const [parsed] = records(parseEventBody(bytes(samples.cloudEvent())));
    expect(parsed).toMatchObject({
      operationName: "microsoft.app/jobs/write",
      status: "success",
      eventTime: "2025-03-14T12:05:19.8120440Z",
    });
  });

  it("reads a single Event Grid event that is not wrapped in an array", () => {
    const [event] = samples.eventGrid();
    expect(records(parseEventBody(event))).toHaveLength(1);
  });

  it("maps write failures and cancellations to failure", () => {
    const [event] = samples.eventGrid();
    const failed = { ...event, eventType: "Microsoft.Resources.ResourceWriteFailure" };
    const cancelled = { ...event, eventType: "Microsoft.Resources.ResourceWriteCancel" };
    expect(records(parseEventBody([failed, cancelled])).map((record) => record.status)).toEqual([
      "failure",
      "failure",
    ]);
  });

  it("uses the subject when data.resourceUri is missing", () => {
    const event = samples.cloudEvent();
    delete (event.data as Record<string, unknown>).resourceUri;
    expect(records(parseEventBody(event))[0]?.resourceId).toBe(event.subject);
  });

  it("rejects events of other types as other-event-type", () => {
    const event = { ...samples.cloudEvent(), type: "Microsoft.Storage.BlobCreated" };
    expect(parseEventBody(event)).toEqual([
      { ok: false, reason: "other-event-type", detail: "event has type Microsoft.Storage.BlobCreated" },
    ]);
  });
});

describe("rejecting bad bodies with a precise reason", () => {
  it("rejects a body that is not JSON", () => {
    const [item] = parseEventBody(bytes("hello, {not json"));
    expect(item).toMatchObject({ ok: false, reason: "not-json" });
  });

  it("rejects bytes that are not UTF-8", () => {
    const [item] = parseEventBody(new Uint8Array([0xff, 0xfe, 0x7b]));
    expect(item).toMatchObject({ ok: false, reason: "not-json" });
  });

  it("rejects JSON of neither shape", () => {
    expect(parseEventBody(bytes({ hello: "world" }))).toEqual([
      {
        ok: false,
        reason: "unknown-shape",
        detail: "neither an Activity Log body ({records}) nor an Event Grid event or CloudEvent",
      },
    ]);
    expect(parseEventBody(bytes(42))[0]).toMatchObject({ ok: false, reason: "unknown-shape" });
    expect(parseEventBody(bytes(null))[0]).toMatchObject({ ok: false, reason: "unknown-shape" });
    expect(parseEventBody(bytes([{ foo: 1 }, "text"]))).toEqual([
      {
        ok: false,
        reason: "unknown-shape",
        detail: "event 0 is neither an Event Grid event nor a CloudEvent",
      },
      { ok: false, reason: "unknown-shape", detail: "event 1 is a string, not an object" },
    ]);
  });

  it("rejects records that is not an array", () => {
    expect(parseEventBody(bytes({ records: { resourceId: "x" } }))).toEqual([
      { ok: false, reason: "records-not-array", detail: "records is an object" },
    ]);
  });

  it("rejects a record without resourceId or operationName, and keeps the others", () => {
    const good = activityLogRecord({
      resourceId: resourceId("rg", "Microsoft.App/jobs", "job-a"),
      operationName: "Microsoft.App/jobs/write",
    });
    const { resourceId: _, ...noResourceId } = good;
    const { operationName: __, ...noOperation } = good;
    const parsed = parseEventBody({ records: [noResourceId, good, noOperation, "oops"] });
    expect(parsed.map((item) => (item.ok ? "ok" : `${item.reason}: ${item.detail}`))).toEqual([
      "missing-field: record 0 has no resourceId",
      "ok",
      "missing-field: record 2 has no operationName",
      "unknown-shape: record 3 is a string, not an object",
    ]);
  });

  it("rejects a resource event without operationName", () => {
    const event = samples.cloudEvent();
    delete (event.data as Record<string, unknown>).operationName;
    expect(parseEventBody(event)).toEqual([
      { ok: false, reason: "missing-field", detail: "event has no data.operationName" },
    ]);
  });
});
