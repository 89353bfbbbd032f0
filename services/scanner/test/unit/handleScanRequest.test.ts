import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseImageRef, ScanCompletedV1, type ScanRequested } from "@qcs/shared";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createScanRequestHandler,
  type ScanDelivery,
  type ScanRequestHandlerOptions,
} from "../../src/core/handleScanRequest.ts";
import type { OutputFile } from "../../src/core/report.ts";
import { ScanFailure } from "../../src/core/scanFailure.ts";
import {
  CapturingPublisher,
  FakeDigestResolver,
  FakeRegistryAuth,
  InMemoryScanCache,
  RecordingMetrics,
  ScriptedQscanner,
  silentLogger,
} from "../support/fakes.ts";

const HOUR = 3_600_000;
const NOW = new Date("2025-03-14T12:00:00.000Z");
const DIGEST = "sha256:4406a5e86f1d2f0e35ddb8b2e7d0fd19b6c6c8a7f7a0a0c2f5a8c3b81e1e1e53";
const SECRET = "registry-refresh-token-value";
const fixtureDir = join(import.meta.dirname, "..", "fixtures", "qscanner", "target-layout");
const reportFiles: OutputFile[] = readdirSync(fixtureDir).map((name) => ({
  name,
  content: readFileSync(join(fixtureDir, name), "utf8"),
}));

function request(overrides: Partial<ScanRequested> = {}): ScanRequested {
  return {
    schemaVersion: 1,
    requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
    requestedAt: "2025-03-14T11:59:00.000Z",
    force: false,
    image: parseImageRef("contosoprod.azurecr.io/checkout/api:2.4.1"),
    sources: [
      {
        kind: "aci",
        resourceId:
          "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.ContainerInstance/containerGroups/g",
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg-a",
        resourceName: "g",
      },
    ],
    ...overrides,
  };
}

const options: ScanRequestHandlerOptions = {
  pod: "US2",
  cacheMs: 24 * HOUR,
  rescanOnScannerUpgrade: true,
  scanTimeoutMs: 60_000,
  retryBaseDelayMs: 1000,
  scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
  sendTargetInfo: false,
  allowedPrivateRegistries: [],
};

let cache: InMemoryScanCache;
let digests: FakeDigestResolver;
let registryAuth: FakeRegistryAuth;
let publisher: CapturingPublisher;
let metrics: RecordingMetrics;

beforeEach(() => {
  cache = new InMemoryScanCache();
  digests = new FakeDigestResolver();
  registryAuth = new FakeRegistryAuth();
  publisher = new CapturingPublisher();
  metrics = new RecordingMetrics();
});

function handlerWith(qscanner: ScriptedQscanner, overrides: Partial<ScanRequestHandlerOptions> = {}) {
  let id = 0;
  return createScanRequestHandler(
    {
      cache,
      digests,
      registryAuth,
      qscanner,
      publisher,
      metrics,
      clock: { now: () => NOW },
      newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, "0")}`,
      redact: (text) => text.split(SECRET).join("[REDACTED]"),
      logger: silentLogger,
    },
    { ...options, ...overrides },
  );
}

function delivery(body: unknown, extra: Partial<ScanDelivery> = {}): ScanDelivery {
  return {
    message: { body, subject: "ScanRequested", contentType: "application/json" },
    deliveryCount: 0,
    priorAttempts: 0,
    signal: new AbortController().signal,
    ...extra,
  };
}

describe("handling a scan request", () => {
  it("scans, publishes a valid ScanCompleted with counts, digest and Qualys IDs, then completes", async () => {
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    const settlement = await handlerWith(qscanner)(delivery(request()));

    expect(settlement).toEqual({ action: "complete", outcome: "succeeded" });
    expect(publisher.published).toHaveLength(1);
    const scan = ScanCompletedV1.parse(publisher.published[0]);
    expect(scan).toMatchObject({
      status: "succeeded",
      attempt: 1,
      requestId: request().requestId,
      image: { ref: `contosoprod.azurecr.io/checkout/api@${DIGEST}`, tag: "2.4.1", digest: DIGEST },
      vulnerabilities: { critical: 1, high: 1, medium: 1, low: 1, informational: 1, total: 5 },
      qualys: { pod: "US2", imageId: "2f6a1c7e9b04" },
      scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
    });
    expect(metrics.scans).toEqual([{ outcome: "succeeded", failureClass: undefined }]);
    expect(metrics.vulnerabilities).toHaveLength(1);
  });

  it("hands registry credentials to qscanner through its environment only", async () => {
    registryAuth.credentials = { username: "00000000-0000-0000-0000-000000000000", password: SECRET };
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    await handlerWith(qscanner)(delivery(request()));
    expect(qscanner.runs[0]?.env).toEqual({
      QSCANNER_REGISTRY_USERNAME: "00000000-0000-0000-0000-000000000000",
      QSCANNER_REGISTRY_PASSWORD: SECRET,
    });
    expect(qscanner.runs[0]?.args.join(" ")).not.toContain(SECRET);
  });

  it("sends the resource context only when target info is switched on", async () => {
    const off = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    await handlerWith(off)(delivery(request()));
    expect(off.runs[0]?.args).not.toContain("--scan-target-info");
    const on = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    await handlerWith(on, { sendTargetInfo: true })(delivery(request()));
    expect(on.runs[0]?.args).toContain("resource_group=rg-a");
  });

  it("skips a digest scanned successfully by this qscanner within the cache window, without running qscanner", async () => {
    const counts = { critical: 0, high: 2, medium: 0, low: 0, informational: 1, total: 3 };
    digests.digests.set(request().image.ref, DIGEST);
    cache.byKey.set(DIGEST, {
      finishedAt: new Date(NOW.getTime() - HOUR),
      digest: DIGEST,
      scannerVersion: "4.8.0-2",
      vulnerabilities: counts,
    });
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    const settlement = await handlerWith(qscanner)(delivery(request()));

    expect(settlement).toEqual({ action: "complete", outcome: "skipped" });
    expect(qscanner.runs).toHaveLength(0);
    expect(ScanCompletedV1.parse(publisher.published[0])).toMatchObject({
      status: "skipped",
      skipReason: "cached",
      image: { ref: `contosoprod.azurecr.io/checkout/api@${DIGEST}`, tag: "2.4.1", digest: DIGEST },
      vulnerabilities: counts,
    });
    expect(metrics.cacheHits).toBe(1);
  });

  it("resolves a tag before the cache check and scans the digest it names, recorded with the tag", async () => {
    const moved = "sha256:9c1f4e0b5a7d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b";
    digests.digests.set(request().image.ref, moved);
    // The tag's old content is cached; the tag moved.
    cache.byKey.set(request().image.ref, { finishedAt: NOW, scannerVersion: "4.8.0-2" });
    cache.byKey.set(DIGEST, { finishedAt: NOW, digest: DIGEST, scannerVersion: "4.8.0-2" });
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    const settlement = await handlerWith(qscanner)(delivery(request()));

    expect(settlement).toEqual({ action: "complete", outcome: "succeeded" });
    expect(digests.lookups).toEqual(["contosoprod.azurecr.io/checkout/api:2.4.1"]);
    expect(cache.lookups).toEqual([moved]);
    const args = qscanner.runs[0]?.args ?? [];
    expect(args[args.indexOf("image") + 1]).toBe(`contosoprod.azurecr.io/checkout/api@${moved}`);
    expect(publisher.published[0]?.image).toMatchObject({ tag: "2.4.1", digest: moved });
  });

  it("rescans a cached digest after a qscanner upgrade, unless RESCAN_ON_SCANNER_UPGRADE is off", async () => {
    const pinned = request({ image: parseImageRef(`contosoprod.azurecr.io/checkout/api@${DIGEST}`) });
    cache.byKey.set(DIGEST, { finishedAt: NOW, digest: DIGEST, scannerVersion: "4.7.0-1" });
    const upgraded = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    expect(await handlerWith(upgraded)(delivery(pinned))).toMatchObject({ outcome: "succeeded" });
    expect(upgraded.runs).toHaveLength(1);
    expect(digests.lookups).toEqual([]);

    const kept = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    const settlement = await handlerWith(kept, { rescanOnScannerUpgrade: false })(delivery(pinned));
    expect(settlement).toMatchObject({ outcome: "skipped" });
    expect(kept.runs).toHaveLength(0);
  });

  it("scans by tag, uncached, when the registry names no digest", async () => {
    cache.byKey.set(request().image.ref, { finishedAt: NOW, scannerVersion: "4.8.0-2" });
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    expect(await handlerWith(qscanner)(delivery(request()))).toMatchObject({ outcome: "succeeded" });
    const args = qscanner.runs[0]?.args ?? [];
    expect(args[args.indexOf("image") + 1]).toBe("contosoprod.azurecr.io/checkout/api:2.4.1");
  });

  it.each([
    ["ImageNotFound", { action: "deadLetter", reason: "ImageNotFound" }],
    ["RegistryAuthFailed", { action: "deadLetter", reason: "RegistryAuthFailed" }],
  ] as const)(
    "settles a registry's %s answer to the tag's HEAD by the failure policy, without qscanner",
    async (failureClass, expected) => {
      digests.failWith = new ScanFailure(
        failureClass,
        "contosoprod.azurecr.io/checkout/api:2.4.1: HEAD manifest answered HTTP 404",
      );
      const qscanner = new ScriptedQscanner([]);
      expect(await handlerWith(qscanner)(delivery(request()))).toMatchObject(expected);
      expect(qscanner.runs).toHaveLength(0);
      expect(cache.lookups).toEqual([]);
      expect(publisher.published[0]).toMatchObject({ status: "failed", error: { class: failureClass } });
    },
  );

  it("retries a rate-limited HEAD no sooner than the registry's Retry-After", async () => {
    digests.failWith = new ScanFailure("RateLimited", "HTTP 429", 30_000);
    expect(await handlerWith(new ScriptedQscanner([]))(delivery(request()))).toEqual({
      action: "retry",
      attempt: 1,
      delayMs: 30_000,
      failureClass: "RateLimited",
    });
  });

  it("abandons the request when the registry fails transiently (5xx, timeout)", async () => {
    digests.failWith = new Error("ghcr.io answered HTTP 503");
    const settlement = await handlerWith(new ScriptedQscanner([]))(delivery(request()));
    expect(settlement).toMatchObject({ action: "abandon" });
    expect(publisher.published).toEqual([]);
  });

  it("looks the cache up by digest when the request carries one", async () => {
    const pinned = request({ image: parseImageRef(`contosoprod.azurecr.io/checkout/api@${DIGEST}`) });
    await handlerWith(new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]))(delivery(pinned));
    expect(cache.lookups).toEqual([DIGEST]);
  });

  it("scans a forced request even when the cache is fresh, without reading the cache", async () => {
    digests.digests.set(request().image.ref, DIGEST);
    cache.byKey.set(DIGEST, { finishedAt: NOW, digest: DIGEST, scannerVersion: "4.8.0-2" });
    const qscanner = new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]);
    const settlement = await handlerWith(qscanner)(delivery(request({ force: true })));
    expect(settlement).toMatchObject({ outcome: "succeeded" });
    expect(qscanner.runs).toHaveLength(1);
    expect(cache.lookups).toEqual([]);
  });

  it("dead-letters a body that breaks the contract as InvalidMessage, naming the field", async () => {
    const settlement = await handlerWith(new ScriptedQscanner([]))(
      delivery({ ...request(), requestId: "nope" }),
    );
    expect(settlement).toMatchObject({ action: "deadLetter", reason: "InvalidMessage" });
    expect(settlement.action === "deadLetter" && settlement.description).toMatch(
      /requestId: .*Fix the producer/,
    );
    expect(publisher.published).toHaveLength(0);
  });

  it("dead-letters a bad image reference as InvalidImageReference before any subprocess", async () => {
    const qscanner = new ScriptedQscanner([]);
    const body = { ...request(), image: { ...request().image, ref: "--output=/etc/passwd" } };
    const settlement = await handlerWith(qscanner)(delivery(body));
    expect(settlement).toMatchObject({ action: "deadLetter", reason: "InvalidImageReference" });
    expect(qscanner.runs).toHaveLength(0);
  });

  it("calls a request without any image, or with other faults too, an InvalidMessage", async () => {
    const { image: _, ...withoutImage } = request();
    const handler = handlerWith(new ScriptedQscanner([]));
    expect(await handler(delivery(withoutImage))).toMatchObject({ reason: "InvalidMessage" });
    const twoFaults = { ...request(), force: "yes", image: { ...request().image, ref: "-x" } };
    expect(await handler(delivery(twoFaults))).toMatchObject({ reason: "InvalidMessage" });
  });

  it("dead-letters a registry refusal with a description free of the token, after publishing the failure", async () => {
    registryAuth.failWith = new ScanFailure(
      "RegistryAuthFailed",
      `contosoprod.azurecr.io refused the token ${SECRET} (401)`,
    );
    const settlement = await handlerWith(new ScriptedQscanner([]))(delivery(request()));
    expect(settlement).toMatchObject({ action: "deadLetter", reason: "RegistryAuthFailed" });
    const description = settlement.action === "deadLetter" ? settlement.description : "";
    expect(description).toContain("refused the token [REDACTED] (401)");
    expect(description).toContain("AcrPull");
    expect(description).not.toContain(SECRET);
    expect(publisher.published[0]).toMatchObject({
      status: "failed",
      error: { class: "RegistryAuthFailed" },
    });
    expect(JSON.stringify(publisher.published)).not.toContain(SECRET);
  });

  it.each([
    ["ERROR MANIFEST_UNKNOWN: manifest unknown", 6, "ImageNotFound"],
    ["ERROR invalid access token", 1, "QualysAuthFailed"],
  ] as const)("dead-letters %j (exit %i) at once as %s", async (output, exitCode, reason) => {
    const settlement = await handlerWith(new ScriptedQscanner([{ exitCode, output }]))(delivery(request()));
    expect(settlement).toMatchObject({ action: "deadLetter", reason });
    expect(publisher.published[0]).toMatchObject({ status: "failed", error: { class: reason, exitCode } });
  });

  it("retries exit 40 later with the attempt count carried, then dead-letters when attempts run out", async () => {
    const handler = handlerWith(new ScriptedQscanner([{ exitCode: 40, output: "ERROR report not ready" }]));
    expect(await handler(delivery(request()))).toEqual({
      action: "retry",
      attempt: 1,
      delayMs: 1000,
      failureClass: "ReportNotReady",
    });
    expect(await handler(delivery(request(), { priorAttempts: 2, deliveryCount: 1 }))).toMatchObject({
      action: "retry",
      attempt: 4,
      delayMs: 4000,
    });
    expect(publisher.published).toHaveLength(0);
    const last = await handler(delivery(request(), { priorAttempts: 4 }));
    expect(last).toMatchObject({ action: "deadLetter", reason: "ReportNotReady" });
    expect(publisher.published[0]).toMatchObject({ status: "failed", attempt: 5 });
  });

  it("classifies a timeout, a missing binary and an unusable report", async () => {
    const timeout = await handlerWith(new ScriptedQscanner([{ timedOut: true, exitCode: null }]))(
      delivery(request()),
    );
    expect(timeout).toMatchObject({ action: "retry", failureClass: "ScanTimeout" });
    const missing = await handlerWith(new ScriptedQscanner([{ spawnError: "spawn qscanner ENOENT" }]))(
      delivery(request()),
    );
    expect(missing).toMatchObject({ action: "retry", failureClass: "ScannerFailed" });
    const noReport = await handlerWith(new ScriptedQscanner([{ exitCode: 0, files: [] }]))(
      delivery(request(), { priorAttempts: 2 }),
    );
    expect(noReport).toMatchObject({ action: "deadLetter", reason: "ScannerFailed" });
    expect(noReport.action === "deadLetter" && noReport.description).toMatch(
      /report is unusable: no \*-Report/,
    );
  });

  it("does not complete a request whose ScanCompleted could not be published", async () => {
    publisher.failWith = new Error("topic unavailable");
    const settlement = await handlerWith(new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]))(
      delivery(request()),
    );
    expect(settlement).toMatchObject({ action: "abandon" });
    expect(metrics.scans).toEqual([{ outcome: "abandoned", failureClass: undefined }]);
  });

  it("abandons without publishing when the lock is lost during the scan", async () => {
    const lock = new AbortController();
    lock.abort();
    const settlement = await handlerWith(new ScriptedQscanner([{ exitCode: 0, files: reportFiles }]))(
      delivery(request(), { signal: lock.signal }),
    );
    expect(settlement).toMatchObject({ action: "abandon" });
    expect(publisher.published).toHaveLength(0);
  });

  it("abandons (not dead-letters) when the cache store is unreachable", async () => {
    cache.failWith = new Error("connect ECONNREFUSED 127.0.0.1:10002");
    const settlement = await handlerWith(new ScriptedQscanner([]))(delivery(request()));
    expect(settlement).toMatchObject({ action: "abandon", reason: expect.stringContaining("ECONNREFUSED") });
  });
});
