// Registries on loopback, link-local or private addresses are refused before any network call,
// unless SCANNER_ALLOWED_PRIVATE_REGISTRIES names them.
import { parseImageRef, type ScanRequested } from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { createScanRequestHandler } from "../../src/core/handleScanRequest.ts";
import { privateRegistryRefusal } from "../../src/core/privateRegistry.ts";
import {
  CapturingPublisher,
  FakeDigestResolver,
  FakeRegistryAuth,
  InMemoryScanCache,
  RecordingMetrics,
  ScriptedQscanner,
  silentLogger,
} from "../support/fakes.ts";

describe("which registries are refused", () => {
  it.each([
    ["169.254.169.254", /link-local address \(169\.254\.0\.0\/16/],
    ["[::1]:5000", /loopback address \(::1\)/],
    ["10.0.0.5", /private address \(10\.0\.0\.0\/8\)/],
    ["127.0.0.1:5000", /loopback address \(127\.0\.0\.0\/8\)/],
    ["localhost:5000", /loopback name/],
    ["localhost", /loopback name/],
    ["registry.localhost", /loopback name/],
    ["192.168.1.1", /private address \(192\.168\.0\.0\/16\)/],
    ["172.16.0.1", /private address \(172\.16\.0\.0\/12\)/],
    ["172.31.255.254:443", /private address \(172\.16\.0\.0\/12\)/],
    ["100.64.0.1", /shared address/],
    ["0.0.0.0", /unspecified address/],
    ["[fd00::1]", /unique local address \(fc00::\/7\)/],
    ["[fe80::1]:5000", /link-local address \(fe80::\/10\)/],
    ["[::]", /unspecified address \(::\)/],
    ["[::ffff:127.0.0.1]", /embeds a loopback address/],
    ["[::ffff:7f00:1]:5000", /embeds a loopback address/],
    ["[::ffff:a9fe:a9fe]", /embeds a link-local address/],
    ["[64:ff9b::a00:5]", /embeds a private address \(10\.0\.0\.0\/8\)/],
    // Other spellings of 127.0.0.1 that resolvers accept.
    ["2130706433:80", /loopback address/],
    ["0x7f.0.0.1", /loopback address/],
    ["0177.0.0.1", /loopback address/],
    ["127.1", /loopback address/],
    ["registry:5000", /single-label name/],
    ["registry.corp.internal", /reserved for private networks/],
    ["nas.local:5000", /reserved for private networks/],
  ])("refuses %s, naming it and the setting", (registry, kind) => {
    const refusal = privateRegistryRefusal(registry, []);
    expect(refusal).toMatch(kind);
    expect(refusal).toContain(`registry ${registry} is `);
    expect(refusal).toContain("SCANNER_ALLOWED_PRIVATE_REGISTRIES");
  });

  it.each([
    "docker.io",
    "mcr.microsoft.com",
    "contosoprod.azurecr.io",
    "ghcr.io",
    "8.8.8.8",
    "172.32.0.1",
    "192.169.0.1",
    "[2001:db8::1]:5000",
    "[::ffff:808:808]",
    "registry.example.com:5000",
  ])("accepts %s", (registry) => {
    expect(privateRegistryRefusal(registry, [])).toBeUndefined();
  });

  it("accepts a private registry that the setting names, with its port or on any port", () => {
    expect(privateRegistryRefusal("localhost:5000", ["localhost:5000"])).toBeUndefined();
    expect(privateRegistryRefusal("10.0.0.5:8443", ["10.0.0.5"])).toBeUndefined();
    expect(privateRegistryRefusal("[::1]:5000", ["[::1]"])).toBeUndefined();
    expect(privateRegistryRefusal("localhost:5001", ["localhost:5000"])).toMatch(/loopback name/);
    expect(privateRegistryRefusal("10.0.0.6", ["10.0.0.5"])).toMatch(/private address/);
  });
});

describe("a request for a private registry", () => {
  it("is dead-lettered as InvalidImageReference before the cache, the registry or qscanner is asked", async () => {
    const cache = new InMemoryScanCache();
    cache.failWith = new Error("the cache must not be read");
    const registryAuth = new FakeRegistryAuth();
    registryAuth.failWith = new Error("the registry must not be asked");
    const digests = new FakeDigestResolver();
    digests.failWith = new Error("the registry must not be asked for a digest");
    const qscanner = new ScriptedQscanner([{ exitCode: 0 }]);
    const publisher = new CapturingPublisher();
    const metrics = new RecordingMetrics();
    const handle = createScanRequestHandler(
      {
        cache,
        digests,
        registryAuth,
        qscanner,
        publisher,
        metrics,
        clock: { now: () => new Date("2025-03-14T12:00:00.000Z") },
        newId: () => "00000000-0000-4000-8000-000000000001",
        redact: (text) => text,
        logger: silentLogger,
      },
      {
        pod: "US2",
        cacheMs: 0,
        rescanOnScannerUpgrade: true,
        scanTimeoutMs: 60_000,
        retryBaseDelayMs: 1000,
        scanner: { name: "qscanner", version: "4.8.0-2", mode: "get-report" },
        sendTargetInfo: false,
        allowedPrivateRegistries: [],
      },
    );
    const request: ScanRequested = {
      schemaVersion: 1,
      requestId: "5b0c1c1e-3f5e-4a57-9f3e-0a4bb1a7d2c1",
      requestedAt: "2025-03-14T11:59:00.000Z",
      force: false,
      image: parseImageRef("169.254.169.254/metadata/instance:latest"),
      sources: [{ kind: "manual" }],
    };

    const settlement = await handle({
      message: { body: request, subject: "ScanRequested", contentType: "application/json" },
      deliveryCount: 0,
      priorAttempts: 0,
      signal: new AbortController().signal,
    });

    expect(settlement).toMatchObject({ action: "deadLetter", reason: "InvalidImageReference" });
    expect(settlement.action === "deadLetter" && settlement.description).toMatch(
      /^registry 169\.254\.169\.254 is a link-local address .*SCANNER_ALLOWED_PRIVATE_REGISTRIES names it\./,
    );
    expect(qscanner.runs).toEqual([]);
    expect(digests.lookups).toEqual([]);
    expect(publisher.published).toEqual([]);
  });
});
