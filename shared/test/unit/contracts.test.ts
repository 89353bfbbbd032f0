import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildScanCompletedMessage,
  buildScanRequestedMessage,
  ContractError,
  parseImageRef,
  parseScanCompletedMessage,
  parseScanRequestedMessage,
  type ScanCompleted,
  type ScanRequested,
  scanRequestMessageId,
} from "../../src/index.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const DIGEST = `sha256:${"0f".repeat(32)}`;

function request(overrides: Partial<ScanRequested> = {}): ScanRequested {
  return {
    schemaVersion: 1,
    requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
    requestedAt: "2025-03-14T09:21:11.554Z",
    force: false,
    image: parseImageRef("myreg.azurecr.io/payments/invoice-worker:2.4.1"),
    sources: [
      {
        kind: "aci",
        resourceId:
          "/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker",
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg-payments-prod",
        resourceName: "ci-invoice-worker",
        containerName: "worker",
        eventTime: "2025-03-14T09:21:11.5541870Z",
        correlationId: "b68e55d5-4884-455a-8245-8e83155b7790",
      },
    ],
    ...overrides,
  };
}

function completed(overrides: Partial<ScanCompleted> = {}): ScanCompleted {
  return {
    schemaVersion: 1,
    scanId: "0d7c5a39-0c62-4b8a-8d0e-8b7f0d6c9a11",
    requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
    image: parseImageRef(`myreg.azurecr.io/payments/invoice-worker@${DIGEST}`),
    sources: request().sources,
    status: "succeeded",
    attempt: 1,
    startedAt: "2025-03-14T09:22:00.000Z",
    finishedAt: "2025-03-14T09:23:30.000Z",
    durationMs: 90_000,
    scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4, informational: 5, total: 15 },
    qualys: { pod: "US2", imageId: "4406e1e53abc" },
    ...overrides,
  };
}

describe("ScanRequested messages", () => {
  it("carry the dedup key, subject, content type and filterable properties", () => {
    const message = buildScanRequestedMessage(request());
    expect(message.messageId).toBe(
      sha256("myreg.azurecr.io/payments/invoice-worker:2.4.1\n@b68e55d5-4884-455a-8245-8e83155b7790"),
    );
    expect(message.subject).toBe("ScanRequested");
    expect(message.contentType).toBe("application/json");
    expect(message.applicationProperties).toEqual({
      registry: "myreg.azurecr.io",
      imageRef: "myreg.azurecr.io/payments/invoice-worker:2.4.1",
      schemaVersion: 1,
    });
    expect(message.body).toEqual(request());
  });

  it("key on the digest when one is known, so tags of one image collapse", () => {
    const byDigest = request({ image: parseImageRef(`myreg.azurecr.io/a:1@${DIGEST}`) });
    expect(buildScanRequestedMessage(byDigest).messageId).toBe(sha256(DIGEST));
    expect(scanRequestMessageId({ ref: "x", digest: DIGEST })).toBe(sha256(DIGEST));
  });

  it("key a tag-only request on its deployment, so repeats of one deployment collapse and a redeploy does not", () => {
    const [source] = request().sources;
    if (source === undefined || source.kind === "manual") throw new Error("fixture");
    const copy = { ...source, eventTime: "2025-03-14T09:21:40.0000000Z" }; // Accept, Event Grid copy
    const key = (sources: ScanRequested["sources"]) =>
      buildScanRequestedMessage(request({ sources })).messageId;
    expect(key([source, copy])).toBe(key([source]));
    expect(key([copy, source])).toBe(key([source]));
    const redeploy = {
      ...source,
      correlationId: "5c0a3bd2-0bb4-4d44-9a1e-6d3f0f0b0b0b",
      eventTime: "2025-03-15T08:00:00.000Z",
    };
    expect(key([redeploy])).not.toBe(key([source]));
    // The newest deployment names the request: adding an older one (a batch merged differently on a retry) changes nothing.
    expect(key([source, redeploy])).toBe(key([redeploy]));
    // Without a correlation ID the event time names the deployment (a sweep stamps its run's time).
    const { correlationId: _, ...timed } = source;
    expect(key([timed])).toBe(sha256(`myreg.azurecr.io/payments/invoice-worker:2.4.1\n@${source.eventTime}`));
    expect(key([{ ...timed, eventTime: "2025-03-15T00:00:00.000Z" }])).not.toBe(key([timed]));
    // A digest names the content: deployments do not matter.
    const pinned = parseImageRef(`myreg.azurecr.io/a:1@${DIGEST}`);
    expect(buildScanRequestedMessage(request({ image: pinned, sources: [redeploy] })).messageId).toBe(
      sha256(DIGEST),
    );
  });

  it("add the request id as a nonce when forced, so a forced request is not dropped as a repeat", () => {
    const normal = buildScanRequestedMessage(request()).messageId;
    const forced = buildScanRequestedMessage(request({ force: true })).messageId;
    const forcedAgain = buildScanRequestedMessage(
      request({ force: true, requestId: "9a7e8f5e-2f55-4d2c-8a0e-6f1f6e4a1b22" }),
    ).messageId;
    expect(forced).not.toBe(normal);
    expect(forcedAgain).not.toBe(forced);
    expect(buildScanRequestedMessage(request({ force: true })).messageId).toBe(forced);
  });

  it("round-trip through an object, a JSON string and JSON bytes", () => {
    const { body } = buildScanRequestedMessage(request());
    const text = JSON.stringify(body);
    for (const wire of [body, text, Buffer.from(text), new Uint8Array(Buffer.from(text))]) {
      expect(
        parseScanRequestedMessage({ body: wire, subject: "ScanRequested", contentType: "application/json" }),
      ).toEqual(request());
    }
  });

  it("reject an invalid body naming every offending field", () => {
    const bad = { ...request(), requestId: "not-a-uuid", force: "yes", sources: [] };
    try {
      parseScanRequestedMessage({ body: bad });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      const fields = (error as ContractError).issues.map((issue) => issue.field);
      expect(fields).toEqual(expect.arrayContaining(["requestId", "force", "sources"]));
      expect((error as ContractError).message).toMatch(/^ScanRequested: /);
    }
  });

  it("reject an image whose ref is not canonical or disagrees with its parts", () => {
    const notCanonical = { ...request(), image: { ...request().image, ref: "nginx" } };
    expect(() => parseScanRequestedMessage({ body: notCanonical })).toThrow(
      /image\.ref: must be a canonical/,
    );
    const mismatch = { ...request(), image: { ...request().image, registry: "other.io" } };
    expect(() => parseScanRequestedMessage({ body: mismatch })).toThrow(/image\.ref: registry, repository/);
    // A prefix of the real repository, or another tag, is a disagreement too.
    const shortRepository = { ...request(), image: { ...request().image, repository: "payments/invoice" } };
    expect(() => parseScanRequestedMessage({ body: shortRepository })).toThrow(
      /image\.ref: registry, repository/,
    );
    const otherTag = { ...request(), image: { ...request().image, tag: "2.4.2" } };
    expect(() => parseScanRequestedMessage({ body: otherTag })).toThrow(/image\.ref: registry, repository/);
    const injection = { ...request(), image: { ...request().image, ref: "--help" } };
    expect(() => parseScanRequestedMessage({ body: injection })).toThrow(ContractError);
  });

  it("reject a resource source without its resource fields, but accept a manual one", () => {
    const missing = { ...request(), sources: [{ kind: "aci", resourceId: "/subscriptions/x" }] };
    expect(() => parseScanRequestedMessage({ body: missing })).toThrow(/sources\.0\.subscriptionId/);
    const manual = request({ sources: [{ kind: "manual", requestedBy: "alice" }] });
    expect(parseScanRequestedMessage({ body: manual }).sources).toEqual([
      { kind: "manual", requestedBy: "alice" },
    ]);
  });

  it("reject bodies that are not JSON, and the wrong subject or content type", () => {
    expect(() => parseScanRequestedMessage({ body: "{nope" })).toThrow(/\(body\): not valid JSON/);
    expect(() => parseScanRequestedMessage({ body: request(), subject: "ScanCompleted" })).toThrow(/subject/);
    expect(() => parseScanRequestedMessage({ body: request(), contentType: "text/plain" })).toThrow(
      /contentType/,
    );
    expect(() => parseScanRequestedMessage({ body: 42 })).toThrow(/\(message\)/);
  });

  it("refuse to build a message from an invalid request", () => {
    expect(() => buildScanRequestedMessage({ ...request(), schemaVersion: 2 as 1 })).toThrow(/schemaVersion/);
  });
});

describe("ScanCompleted messages", () => {
  it("key a success by its request, so a late second success of one request is a duplicate", () => {
    const first = buildScanCompletedMessage(completed());
    const late = buildScanCompletedMessage(completed({ scanId: "3f0c3a2e-51d1-4b55-9d8e-7f3b0e3b1a11" }));
    expect(late.messageId).toBe(first.messageId);
    expect(first.messageId).toMatch(/^[0-9a-f]{64}$/);
    const otherRequest = completed({ requestId: "7d5a1f7e-2b1c-4c86-8a6b-92c0f1b7e0d2" });
    expect(buildScanCompletedMessage(otherRequest).messageId).not.toBe(first.messageId);
  });

  it("key a failure by its scan, so each failed attempt is recorded", () => {
    const failure = (scanId: string) =>
      completed({
        scanId,
        status: "failed",
        vulnerabilities: undefined,
        error: { class: "ScanTimeout", message: "slow" },
      });
    const one = buildScanCompletedMessage(failure("3f0c3a2e-51d1-4b55-9d8e-7f3b0e3b1a11"));
    const two = buildScanCompletedMessage(failure("4a1d4b3f-62e2-4c66-8e9f-8a4c1f4c2b22"));
    expect(one.messageId).toBe("3f0c3a2e-51d1-4b55-9d8e-7f3b0e3b1a11");
    expect(two.messageId).not.toBe(one.messageId);
  });

  it("carry the status", () => {
    const message = buildScanCompletedMessage(completed());
    expect(message.subject).toBe("ScanCompleted");
    expect(message.applicationProperties.status).toBe("succeeded");
    expect(
      parseScanCompletedMessage({ body: JSON.stringify(message.body), subject: "ScanCompleted" }),
    ).toEqual(completed());
  });

  it("require an error on failure and a skip reason on skip", () => {
    expect(() => buildScanCompletedMessage(completed({ status: "failed" }))).toThrow(
      /error: required when status is failed/,
    );
    expect(() => buildScanCompletedMessage(completed({ status: "skipped" }))).toThrow(/skipReason: required/);
    expect(() => buildScanCompletedMessage(completed({ skipReason: "cached" }))).toThrow(
      /skipReason: only allowed/,
    );
    const failed = completed({
      status: "failed",
      vulnerabilities: undefined,
      error: { class: "ImageNotFound", message: "manifest unknown", exitCode: 6 },
    });
    expect(buildScanCompletedMessage(failed).body.error?.class).toBe("ImageNotFound");
  });

  it("reject an unknown failure class and a finish before the start", () => {
    const unknownClass = completed({
      status: "failed",
      error: { class: "Oops" as "ScannerFailed", message: "x" },
    });
    expect(() => buildScanCompletedMessage(unknownClass)).toThrow(/error\.class/);
    expect(() => buildScanCompletedMessage(completed({ finishedAt: "2025-03-14T09:00:00.000Z" }))).toThrow(
      /finishedAt: must not be before startedAt/,
    );
  });
});
