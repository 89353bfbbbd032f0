import { describe, expect, it } from "vitest";
import { logRecordOf } from "../../src/logBridge.ts";

describe("logRecordOf", () => {
  it("turns a pino line into a record: severity, body, time and flat attributes", () => {
    const line = JSON.stringify({
      level: 40,
      time: "2026-12-02T09:00:00.000Z",
      pid: 1,
      hostname: "h",
      service: "scanner",
      name: "scanner",
      msg: "lock renewal failed",
      messageId: "m-1",
      deliveryCount: 2,
      retry: true,
      image: { registry: "acr.example.com", repository: "app" },
    });
    expect(logRecordOf(line)).toEqual({
      timestamp: new Date("2026-12-02T09:00:00.000Z"),
      severityNumber: 13,
      severityText: "WARN",
      body: "lock renewal failed",
      attributes: {
        messageId: "m-1",
        deliveryCount: 2,
        retry: true,
        image: '{"registry":"acr.example.com","repository":"app"}',
      },
    });
  });

  it("maps a serialised error to the exception attributes", () => {
    const line = JSON.stringify({
      level: 50,
      msg: "failed",
      err: { type: "Error", message: "boom", stack: "Error: boom" },
    });
    expect(logRecordOf(line)?.attributes).toEqual({
      "exception.type": "Error",
      "exception.message": "boom",
      "exception.stacktrace": "Error: boom",
    });
    expect(logRecordOf(line)).toMatchObject({ severityNumber: 17, severityText: "ERROR" });
  });

  it("skips what is not a JSON object", () => {
    expect(logRecordOf("not json")).toBeUndefined();
    expect(logRecordOf("42")).toBeUndefined();
  });
});
