// The scanner end to end in this process: the Service Bus emulator and Azurite over real sockets
// with the official SDKs, the qscanner simulator as a real child process.

import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AccessToken } from "@azure/core-auth";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  type RunningAzurite,
  simulatedImage,
  startAzurite,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { applyScanToMetadata } from "@qcs/recorder/scanRecords";
import { imageRecordKeys, parseImageRef, type ScanCompleted, SecretRedactor } from "@qcs/shared";
import { createLogger, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AcrRegistryAuth, selfAuthenticatingRegistries } from "../../src/adapters/acr/acrRegistryAuth.ts";
import { QscannerProcessRunner, qscannerEnvironment } from "../../src/adapters/qscanner/processRunner.ts";
import { TableScanCacheReader } from "../../src/adapters/tableStorage/scanCacheReader.ts";
import type {
  DigestResolver,
  QscannerProcess,
  RegistryAuthenticator,
  ScanCacheReader,
} from "../../src/core/ports.ts";
import { createScannerService, type ScannerService } from "../../src/scannerService.ts";
import { storageDownConnectionString } from "../support/deadEndpoint.ts";
import { ObservedRunner } from "../support/observedRunner.ts";
import { emulatorConfig, scanRequest, TestEntities, uniqueTag } from "../support/serviceBusHarness.ts";

const TOKEN = "qualys-access-token-7c2e91f04d";
// One queue and topic per test, so the tests can run concurrently.
const ENTITIES = {
  success: {},
  cacheSkip: {},
  cacheForce: {},
  notfound: {},
  unauthorized: {},
  qualysauth: {},
  invalidMessage: {},
  invalidRef: {},
  privateRegistry: {},
  retry40: {},
  retryRate: {},
  retryCrash: {},
  timeout: {},
  outage: { maxDeliveryCount: 3 },
  unpublished: { maxDeliveryCount: 2 },
  longscan: { lockDuration: "PT3S" },
  concurrency: { lockDuration: "PT10S" },
  acrOk: {},
  acrRefused: {},
  acrRedirect: {},
  secrets: {},
};

let emulator: Awaited<ReturnType<typeof startServiceBusEmulator>>;
let azurite: RunningAzurite;
let client: ServiceBusClient;
let table: TableClient;
let tempRoot: string;
const redactor = new SecretRedactor();
redactor.addSecret(TOKEN);
const logLines: string[] = [];
const logger = createLogger({
  name: "scanner-test",
  level: "info",
  format: "json",
  destination: { write: (line: string) => void logLines.push(line) },
  redactor,
});

beforeAll(async () => {
  [emulator, azurite] = await Promise.all([
    startServiceBusEmulator({ config: emulatorConfig(ENTITIES) }),
    startAzurite(),
  ]);
  client = new ServiceBusClient(emulator.connectionString);
  table = TableClient.fromConnectionString(azurite.connectionString, "ScanMetadata", {
    allowInsecureConnection: true,
  });
  await table.createTable();
  tempRoot = mkdtempSync(join(tmpdir(), "scanner-service-test-"));
});

afterAll(async () => {
  await client?.close();
  await emulator?.close();
  await azurite?.stop();
  rmSync(tempRoot, { recursive: true, force: true });
});

interface Running {
  service: ScannerService;
  entities: TestEntities;
  telemetry: Telemetry;
}

type Cleanup = (fn: () => Promise<void>) => void;

function simulator(options: { killGraceMs?: number } = {}): QscannerProcess {
  return new QscannerProcessRunner({
    executable: qscannerSimulatorPath,
    env: qscannerEnvironment({ ...process.env, TMPDIR: tempRoot }, TOKEN, "acr-exchange"),
    tempRoot,
    killGraceMs: options.killGraceMs ?? 500,
  });
}

function startScanner(
  key: keyof typeof ENTITIES,
  cleanup: Cleanup,
  options: {
    concurrency?: number;
    scanTimeoutMs?: number;
    retryBaseDelayMs?: number;
    cache?: ScanCacheReader;
    digests?: DigestResolver;
    registryAuth?: RegistryAuthenticator;
    qscanner?: QscannerProcess;
    topicName?: string;
    allowedPrivateRegistries?: string[];
  } = {},
): Running {
  const entities = new TestEntities(client, key);
  const telemetry = startTelemetry({ serviceName: `scanner-${key}`, env: {} });
  const service = createScannerService({
    serviceBus: client,
    queueName: entities.queue,
    sweepQueueName: entities.sweepQueue,
    maxPriorityStreak: 10,
    topicName: options.topicName ?? entities.topic,
    cache: options.cache ?? new TableScanCacheReader(table),
    // These tests meet no registry: tags are scanned as named (contentScanning.test.ts resolves them).
    digests: options.digests ?? { digestOf: async () => undefined },
    registryAuth: options.registryAuth ?? selfAuthenticatingRegistries,
    qscanner: options.qscanner ?? simulator(),
    meter: telemetry.meter,
    logger,
    redact: (text) => redactor.redact(text),
    concurrency: options.concurrency ?? 2,
    handler: {
      pod: "US2",
      cacheMs: 24 * 3_600_000,
      rescanOnScannerUpgrade: true,
      scanTimeoutMs: options.scanTimeoutMs ?? 20_000,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
      scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
      sendTargetInfo: false,
      allowedPrivateRegistries: options.allowedPrivateRegistries ?? [],
    },
  });
  service.start();
  cleanup(async () => {
    await service.stopIntake();
    await service.drain(AbortSignal.timeout(5000));
    await service.close();
    await entities.close();
    await telemetry.shutdown();
  });
  return { service, entities, telemetry };
}

/** Writes a successful scan of `ref` into ScanMetadata the way the recorder does. */
async function recordSuccess(ref: string, finishedAt: Date): Promise<void> {
  const scan: ScanCompleted = {
    schemaVersion: 1,
    scanId: crypto.randomUUID(),
    requestId: crypto.randomUUID(),
    image: parseImageRef(ref),
    sources: [{ kind: "manual" }],
    status: "succeeded",
    attempt: 1,
    startedAt: new Date(finishedAt.getTime() - 1000).toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: 1000,
    scanner: { name: "qscanner", version: "0.0.0-simulator", mode: "get-report" },
    vulnerabilities: { critical: 0, high: 1, medium: 0, low: 0, informational: 0, total: 1 },
  };
  for (const key of imageRecordKeys(scan.image)) {
    const change = applyScanToMetadata(undefined, scan, key);
    if (change.entity) await table.upsertEntity(change.entity, "Replace");
  }
}

describe.concurrent("scanner service", () => {
  it("scans a request, publishes one ScanCompleted with the findings, then completes the request", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("success", onTestFinished);
    const ref = `registry.example.com/team/app:${uniqueTag("ok")}`;
    const request = scanRequest(ref);
    await entities.send(request);

    const [scan] = await entities.completedFor(request.requestId);
    const expected = simulatedImage(ref);
    const { critical, high, medium, low, informational } = expected.counts;
    expect(scan).toMatchObject({
      status: "succeeded",
      attempt: 1,
      sources: request.sources,
      image: { tag: request.image.tag, digest: expected.digest },
      vulnerabilities: { ...expected.counts, total: critical + high + medium + low + informational },
      qualys: { pod: "US2", imageId: expected.imageSha.slice(0, 12), imageSha: expected.imageSha },
    });
    expect(await entities.queueDrained()).toBe(true);
  });

  it("skips an image scanned successfully within the cache window, without running qscanner", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const ref = `registry.example.com/team/cached:${uniqueTag("v1")}`;
    const digest = simulatedImage(ref).digest;
    const digests = { digestOf: async () => digest };
    const { entities } = startScanner("cacheSkip", onTestFinished, { qscanner, digests });
    await recordSuccess(`${ref}@${digest}`, new Date(Date.now() - 3_600_000));
    const request = scanRequest(ref);
    await entities.send(request);

    const [scan] = await entities.completedFor(request.requestId);
    expect(scan).toMatchObject({
      status: "skipped",
      skipReason: "cached",
      vulnerabilities: { high: 1, total: 1 },
    });
    expect(qscanner.runs).toBe(0);
    expect(await entities.queueDrained()).toBe(true);
  });

  it("scans a forced request even though the cache is fresh", async ({ onTestFinished }) => {
    const qscanner = new ObservedRunner(simulator());
    const ref = `registry.example.com/team/cached:${uniqueTag("v2")}`;
    const digest = simulatedImage(ref).digest;
    const { entities } = startScanner("cacheForce", onTestFinished, {
      qscanner,
      digests: { digestOf: async () => digest },
    });
    await recordSuccess(`${ref}@${digest}`, new Date());
    const request = scanRequest(ref, { force: true });
    await entities.send(request);

    const [scan] = await entities.completedFor(request.requestId);
    expect(scan?.status).toBe("succeeded");
    expect(qscanner.runs).toBe(1);
  });

  it.for([
    ["notfound", "ImageNotFound", /manifest unknown.*push it back/i],
    ["unauthorized", "RegistryAuthFailed", /UNAUTHORIZED.*AcrPull/],
    ["qualysauth", "QualysAuthFailed", /invalid access token.*Renew QUALYS_ACCESS_TOKEN/],
  ] as const)(
    "dead-letters %s at once with reason %s and a description saying what to fix",
    async ([word, reason, text], { onTestFinished }) => {
      const qscanner = new ObservedRunner(simulator());
      const { entities } = startScanner(word, onTestFinished, { qscanner });
      const request = scanRequest(`registry.example.com/team/app:${uniqueTag(word)}`);
      await entities.send(request);

      const deadLetter = await entities.nextDeadLetter();
      expect(deadLetter.deadLetterReason).toBe(reason);
      expect(deadLetter.deadLetterErrorDescription).toMatch(text);
      expect(deadLetter.applicationProperties?.imageRef).toBe(request.image.ref);
      const [scan] = await entities.completedFor(request.requestId);
      expect(scan).toMatchObject({ status: "failed", attempt: 1, error: { class: reason } });
      expect(qscanner.runs).toBe(1);
    },
  );

  it("dead-letters a body that breaks the contract as InvalidMessage, and publishes nothing", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("invalidMessage", onTestFinished);
    const requestId = crypto.randomUUID();
    await entities.sendRaw({
      body: { schemaVersion: 1, requestId, force: "yes" },
      subject: "ScanRequested",
      contentType: "application/json",
      messageId: requestId,
    });
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("InvalidMessage");
    expect(deadLetter.deadLetterErrorDescription).toMatch(/force: .*Fix the producer/);
    expect(await entities.allCompletedFor(requestId, 1000)).toEqual([]);
  });

  it("dead-letters an image reference that could reach a command line as InvalidImageReference", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("invalidRef", onTestFinished, { qscanner });
    const request = scanRequest("registry.example.com/team/app:1");
    await entities.sendRaw({
      body: { ...request, image: { ...request.image, ref: "--output-dir=/etc" } },
      subject: "ScanRequested",
      contentType: "application/json",
      messageId: request.requestId,
    });
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("InvalidImageReference");
    expect(qscanner.runs).toBe(0);
  });

  it("dead-letters a request for a registry on a link-local address without running qscanner, and scans an allowed private one", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("privateRegistry", onTestFinished, {
      qscanner,
      allowedPrivateRegistries: ["localhost:5000"],
    });
    const metadata = scanRequest(`169.254.169.254/metadata/identity:${uniqueTag("imds")}`);
    await entities.send(metadata);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("InvalidImageReference");
    expect(deadLetter.deadLetterErrorDescription).toMatch(
      /^registry 169\.254\.169\.254 is a link-local address .* only when SCANNER_ALLOWED_PRIVATE_REGISTRIES names it\./,
    );
    expect(deadLetter.applicationProperties?.imageRef).toBe(metadata.image.ref);
    expect(qscanner.runs).toBe(0);

    const allowed = scanRequest(`localhost:5000/team/app:${uniqueTag("allowed")}`);
    await entities.send(allowed);
    const [scan] = await entities.completedFor(allowed.requestId);
    expect(scan).toMatchObject({ status: "succeeded", image: { registry: "localhost:5000" } });
    expect(qscanner.runs).toBe(1);
  });

  it("retries a report that is not ready (exit 40) later and then succeeds, counting attempts", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("retry40", onTestFinished, { retryBaseDelayMs: 200 });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("exit40-first2")}`);
    await entities.send(request);
    const [scan] = await entities.completedFor(request.requestId);
    expect(scan).toMatchObject({ status: "succeeded", attempt: 3 });
    expect(await entities.queueDrained()).toBe(true);
  });

  it("retries rate limiting with backoff and then succeeds", async ({ onTestFinished }) => {
    const { entities } = startScanner("retryRate", onTestFinished, { retryBaseDelayMs: 100 });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("ratelimited-first1")}`);
    await entities.send(request);
    const [scan] = await entities.completedFor(request.requestId);
    expect(scan).toMatchObject({ status: "succeeded", attempt: 2 });
  });

  it("dead-letters a scanner that keeps failing once its attempts are used up", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("retryCrash", onTestFinished, { qscanner, retryBaseDelayMs: 100 });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("crash")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("ScannerFailed");
    expect(deadLetter.deadLetterErrorDescription).toMatch(
      /exited with 1 .*internal error.*gave up after 3 attempts/,
    );
    expect(deadLetter.applicationProperties?.attempt).toBe(2);
    const [scan] = await entities.completedFor(request.requestId);
    expect(scan).toMatchObject({
      status: "failed",
      attempt: 3,
      error: { class: "ScannerFailed", exitCode: 1 },
    });
    expect(qscanner.runs).toBe(3);
  });

  it("kills a hanging qscanner at the timeout, retries once, then dead-letters ScanTimeout", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("timeout", onTestFinished, {
      qscanner: simulator({ killGraceMs: 200 }),
      scanTimeoutMs: 1000,
      retryBaseDelayMs: 100,
    });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("hang")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("ScanTimeout");
    expect(deadLetter.deadLetterErrorDescription).toMatch(
      /did not finish within 1 s.*gave up after 2 attempts.*SCAN_TIMEOUT/,
    );
  });

  it("leaves a request to MaxDeliveryCount when Storage is down, which dead-letters it", async ({
    onTestFinished,
  }) => {
    const deadTable = TableClient.fromConnectionString(
      await storageDownConnectionString(azurite.connectionString),
      "ScanMetadata",
      { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
    );
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("outage", onTestFinished, {
      cache: new TableScanCacheReader(deadTable),
      qscanner,
    });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("ok")}`);
    await entities.send(request);

    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("MaxDeliveryCountExceeded");
    expect(qscanner.runs).toBe(0);
    expect(await entities.allCompletedFor(request.requestId, 500)).toEqual([]);
  });

  it("does not complete a request whose ScanCompleted cannot be published", async ({ onTestFinished }) => {
    const { entities } = startScanner("unpublished", onTestFinished, { topicName: "no-such-topic" });
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("ok")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("MaxDeliveryCountExceeded");
    expect(deadLetter.deliveryCount).toBeGreaterThanOrEqual(1);
  });

  it("renews the lock of a scan longer than the lock duration and completes it exactly once", async ({
    onTestFinished,
  }) => {
    const { entities, telemetry } = startScanner("longscan", onTestFinished);
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("slow6500")}`);
    await entities.send(request);

    await entities.completedFor(request.requestId);
    // Had the lock lapsed, the broker would have redelivered within its 3 s lock duration.
    const all = await entities.allCompletedFor(request.requestId, 3500);
    expect(all.map((scan) => [scan.status, scan.attempt])).toEqual([["succeeded", 1]]);
    expect(await entities.queueDrained()).toBe(true);
    const metrics = await telemetry.renderMetrics();
    const renewed = Number(/scanner_lock_renewals_total\{result="renewed"[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(renewed).toBeGreaterThanOrEqual(3);
  });

  it("never runs more scans at once than its concurrency, and runs that many", async ({ onTestFinished }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities, service } = startScanner("concurrency", onTestFinished, { qscanner, concurrency: 2 });
    const requests = Array.from({ length: 5 }, () =>
      scanRequest(`registry.example.com/team/app:${uniqueTag("slow1000")}`),
    );
    for (const request of requests) await entities.send(request);
    let mostInFlight = 0;
    const sampler = setInterval(() => {
      mostInFlight = Math.max(mostInFlight, service.receiver.inFlight);
    }, 20);
    try {
      for (const request of requests) await entities.completedFor(request.requestId, 1, 30_000);
    } finally {
      clearInterval(sampler);
    }
    expect(qscanner.runs).toBe(5);
    expect(qscanner.maxRunning).toBe(2);
    expect(mostInFlight).toBe(2);
  });
});

describe.concurrent("scanner service with Azure Container Registry", () => {
  let exchange: Server;
  let exchangeEndpoint: string;
  /** Where a redirect points: it must never be asked. */
  let elsewhere: Server;
  const elsewhereRequests: string[] = [];
  beforeAll(async () => {
    elsewhere = createServer((request, response) => {
      elsewhereRequests.push(`${request.method} ${request.url}`);
      response.writeHead(200, { "content-type": "application/json" }).end('{"refresh_token":"stolen"}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    const elsewhereEndpoint = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    exchange = createServer(async (request, response) => {
      let body = "";
      for await (const chunk of request) body += chunk;
      const service = new URLSearchParams(body).get("service");
      if (service === "moved.azurecr.io") {
        response.writeHead(307, { location: `${elsewhereEndpoint}/oauth2/exchange` }).end();
        return;
      }
      // This registry refuses the scanner's identity; every other one grants a token.
      const refused = service === "locked.azurecr.io";
      response
        .writeHead(refused ? 403 : 200, { "content-type": "application/json" })
        .end(refused ? '{"errors":[{"message":"denied"}]}' : '{"refresh_token":"acr-refresh-token-1"}');
    });
    await new Promise<void>((resolve) => exchange.listen(0, "127.0.0.1", resolve));
    exchangeEndpoint = `http://127.0.0.1:${(exchange.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => exchange.close(() => resolve()));
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  const acrAuth = () =>
    new AcrRegistryAuth({
      // A fixed Entra token: the identity platform is out of reach; the exchange is what is tested.
      credential: {
        getToken: async (): Promise<AccessToken> => ({
          token: "entra",
          expiresOnTimestamp: Date.now() + 3_600_000,
        }),
      },
      registryEndpoint: () => exchangeEndpoint,
    });

  it("hands the exchanged ACR token to qscanner, which then reads the private image", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("acrOk", onTestFinished, { registryAuth: acrAuth() });
    const request = scanRequest(`contosoprod.azurecr.io/checkout/api:${uniqueTag("v1")}`);
    await entities.send(request);
    const [scan] = await entities.completedFor(request.requestId);
    expect(scan?.status).toBe("succeeded");
  });

  it("dead-letters RegistryAuthFailed when the registry refuses the scanner's identity", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("acrRefused", onTestFinished, { registryAuth: acrAuth(), qscanner });
    const request = scanRequest(`locked.azurecr.io/checkout/api:${uniqueTag("v2")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("RegistryAuthFailed");
    expect(deadLetter.deadLetterErrorDescription).toMatch(
      /refused the scanner's identity \(HTTP 403.*AcrPull/,
    );
    expect(qscanner.runs).toBe(0);
  });

  it("dead-letters RegistryAuthFailed when the token exchange redirects, and the Entra token goes nowhere else", async ({
    onTestFinished,
  }) => {
    const qscanner = new ObservedRunner(simulator());
    const { entities } = startScanner("acrRedirect", onTestFinished, { registryAuth: acrAuth(), qscanner });
    const request = scanRequest(`moved.azurecr.io/checkout/api:${uniqueTag("v3")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("RegistryAuthFailed");
    expect(deadLetter.deadLetterErrorDescription).toMatch(
      /^moved\.azurecr\.io answered \/oauth2\/exchange with a redirect; the scanner does not follow redirects/,
    );
    expect(elsewhereRequests).toEqual([]);
    expect(qscanner.runs).toBe(0);
  });
});

describe.concurrent("scanner service and secrets", () => {
  it("keeps the Qualys token out of logs, dead-letter descriptions and ScanCompleted, even when qscanner prints it", async ({
    onTestFinished,
  }) => {
    const { entities } = startScanner("secrets", onTestFinished);
    const request = scanRequest(`registry.example.com/team/app:${uniqueTag("leaktoken")}`);
    await entities.send(request);
    const deadLetter = await entities.nextDeadLetter();
    expect(deadLetter.deadLetterReason).toBe("QualysAuthFailed");
    expect(deadLetter.deadLetterErrorDescription).toContain("invalid access token: [REDACTED]");
    const [scan] = await entities.completedFor(request.requestId);
    expect(JSON.stringify(scan)).not.toContain(TOKEN);
    expect(deadLetter.deadLetterErrorDescription).not.toContain(TOKEN);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });
});
