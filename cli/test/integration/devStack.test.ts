/**
 * `npm start` end to end: `scanctl dev --json` as its own process on free ports, with the bundled
 * examples (examples/README.md says what they hold). Asserts the exact outcome of every image,
 * the dead letters and their reasons, one recorded scan per image however often it was deployed,
 * that scanctl works with the settings the stack writes, and that SIGTERM leaves no process behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { groupAlive, isAlive, waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevSummary } from "../../src/dev/core/summary.ts";
import { EPHEMERAL_PORT_OPTIONS, SCANCTL_BIN } from "../support/devStack.ts";
import { scanctl } from "../support/runCli.ts";

const API_KEY = "e2e-recorder-key-0123456789-abcdefghij";
const NOTIFY_SECRET = "e2e-notify-secret-0123456789";

type Summary = DevSummary & {
  recorderUrl: string;
  statusPageUrl: string;
  webhookSinkUrl: string;
  envFile: string;
  scanner: string;
  processes: Array<{ name: string; pid: number }>;
};

describe("npm start (scanctl dev) with the bundled examples", () => {
  let dataDir: string;
  let dev: ChildProcess;
  let exited: Promise<number | null>;
  let summary: Summary;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "qcs-dev-e2e-"));
    dev = spawn(
      process.execPath,
      // The replay alone: each example image's outcome and result count as examples/README.md tells
      // them (the sweep that follows by default adds a cached result per image and the unevented workload).
      [
        SCANCTL_BIN,
        "dev",
        "--json",
        "--no-sweep",
        "--timeout",
        "150",
        "--data-dir",
        dataDir,
        ...EPHEMERAL_PORT_OPTIONS,
      ],
      {
        env: {
          ...process.env,
          RECORDER_API_KEY: API_KEY,
          NOTIFY_WEBHOOKS: undefined,
          NOTIFY_WEBHOOK_SECRET: NOTIFY_SECRET,
          NO_COLOR: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    exited = new Promise((resolve) => dev.once("exit", (code) => resolve(code)));
    createInterface({ input: dev.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      logs.push(line);
      if (logs.length > 400) logs.shift();
    });
    const stdout = createInterface({ input: dev.stdout as NodeJS.ReadableStream });
    const summaryLine = new Promise<string | undefined>((resolve) => {
      stdout.on("line", (line) => {
        if (line.startsWith("{")) resolve(line);
        else logs.push(line);
      });
      void exited.then(() => resolve(undefined));
    });
    const line = await summaryLine;
    if (line === undefined) throw new Error(`scanctl dev exited before its summary:\n${logs.join("\n")}`);
    summary = JSON.parse(line) as Summary;
  }, 170_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      dev.kill("SIGTERM");
      const timer = setTimeout(() => dev.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    for (const { pid } of summary?.processes ?? []) {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("processes the examples fully with the simulator", () => {
    expect(summary.complete, summary.left.join("\n")).toBe(true);
    expect(summary.scanner).toBe("simulator");
    expect(summary.replay).toEqual({
      files: 4,
      events: 8,
      activityLogRecords: 12,
      eventGridEvents: 4,
      cloudEvents: 2,
    });
  });

  it("ends every distinct image in its expected outcome, with one recorded result each", () => {
    const outcomes = summary.imageOutcomes.map(({ ref, outcome, results, attempt, reason }) => ({
      ref,
      outcome,
      results,
      attempt,
      reason,
    }));
    const scanned = (ref: string, attempt = 1) => ({
      ref,
      outcome: "scanned",
      results: 1,
      attempt,
      reason: undefined,
    });
    expect(outcomes).toEqual([
      scanned("docker.io/library/busybox:1.36"),
      scanned("docker.io/library/nginx:1.27"),
      {
        ref: "ghcr.io/contoso/catalog:2.0.0-notfound",
        outcome: "dead-lettered",
        results: 1,
        attempt: 1,
        reason: "ImageNotFound",
      },
      scanned("ghcr.io/contoso/exporter:1.4.2"),
      scanned("ghcr.io/contoso/ledger-sync:5.1.0-crash-first1", 2),
      scanned(
        "ghcr.io/contoso/orders-api@sha256:3b1e6e0b7f0a4c3d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
      ),
      scanned("ghcr.io/contoso/orders-migrations:2.4.1"),
      scanned("ghcr.io/contoso/storefront:3.2.0"),
      scanned("mcr.microsoft.com/azure-cli:2.63.0"),
      scanned("mcr.microsoft.com/dotnet/runtime:8.0"),
    ]);
    // Tags resolved on the local registry: every scanned image names its content.
    for (const image of summary.imageOutcomes.filter(({ outcome }) => outcome === "scanned")) {
      expect(image.digest, image.ref).toMatch(/^sha256:[a-f0-9]{64}$/);
    }
    expect(summary.images).toEqual({
      requested: 10,
      scanned: 9,
      skippedCached: 0,
      failed: 0,
      deadLettered: 1,
      notRequested: { "invalid-reference": 1 },
    });
  });

  it("notifies each image with critical or high findings once, and the dead-lettered one once, signed", async () => {
    const response = await fetch(summary.webhookSinkUrl);
    const received = (await response.json()) as Array<{
      type: string;
      signature: string;
      status: number;
      body: { data: { ref: string; registry?: string; repository?: string; tag?: string } };
    }>;
    // As requested: the tag form when the event names a tag (the scan may have added the digest).
    const requested = ({ data }: (typeof received)[number]["body"]) =>
      data.tag && data.registry && data.repository
        ? `${data.registry}/${data.repository}:${data.tag}`
        : data.ref;
    const of = (type: string) =>
      received
        .filter((item) => item.type === type)
        .map((item) => requested(item.body))
        .sort();
    const serious = summary.imageOutcomes
      .filter((image) => (image.vulnerabilities?.critical ?? 0) + (image.vulnerabilities?.high ?? 0) > 0)
      .map((image) => image.ref)
      .sort();
    expect(serious.length).toBeGreaterThan(0);
    expect(of("io.qcs.findings.new")).toEqual(serious);
    expect(of("io.qcs.scan.failed")).toEqual(["ghcr.io/contoso/catalog:2.0.0-notfound"]);
    expect(received.every((item) => item.signature === "valid" && item.status === 200)).toBe(true);
    expect(summary.notifications).toMatchObject({ sent: received.length, failed: 0 });
  });

  it("reports coverage from the recorder's API with the totals /api/coverage answers", async () => {
    const { sloHours, totals } = summary.coverage;
    expect(sloHours).toBe(30);
    expect(totals.current + totals.stale + totals.failing + totals.neverScanned).toBe(totals.images);
    const response = await fetch(`${summary.recorderUrl}/api/coverage?limit=1`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(((await response.json()) as { totals: unknown }).totals).toEqual(totals);
  });

  it("serves the status page at the URL it prints: after a login with the key, the coverage and failures", async () => {
    expect(summary.statusPageUrl).toBe(`${summary.recorderUrl}/`);
    const login = await fetch(`${summary.statusPageUrl}login`, {
      method: "POST",
      body: new URLSearchParams({ key: API_KEY, next: "/" }),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
    const page = async (path: string) => {
      const response = await fetch(`${summary.recorderUrl}${path}`, { headers: { cookie } });
      expect(response.status, path).toBe(200);
      return response.text();
    };
    const overview = await page("/");
    expect(overview).toContain(`data-total="images">${summary.coverage.totals.images}<`);
    expect(overview).toContain(`data-total="current">${summary.coverage.totals.current}<`);
    expect(await page("/failures")).toContain('data-reason="ImageNotFound"');
  });

  it("dead-letters only the image the registry does not have, with ImageNotFound", () => {
    expect(summary.deadLetters.byReason).toEqual({ ImageNotFound: 1 });
    expect(summary.deadLetters.items).toEqual([
      expect.objectContaining({
        entity: "scan-requests",
        reason: "ImageNotFound",
        imageRef: "ghcr.io/contoso/catalog:2.0.0-notfound",
      }),
    ]);
  });

  it("collapses repeated deployments before they reach the scanner, and never requests the invalid reference", () => {
    // 12 image references in the looked-up resources, repeats across resources and event paths.
    expect(summary.ingest.imagesFound).toBeGreaterThan(summary.ingest.requestsSent);
    expect(summary.ingest.imagesDropped["invalid-reference"]).toBe(1);
    expect(summary.ingest.recordsSkipped).toMatchObject({
      start: 5,
      accept: 1,
      failure: 1,
      "other-operation": 1,
    });
  });

  it("keeps one history entry per image in the recorder, as its API shows", async () => {
    const get = async (path: string) => {
      const response = await fetch(`${summary.recorderUrl}${path}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(response.status).toBe(200);
      return response.json() as Promise<{ items: Array<{ scanId: string }>; history?: { items: unknown[] } }>;
    };
    const history = await get("/api/history?limit=100");
    expect(history.items).toHaveLength(10);
    for (const ref of ["docker.io/library/nginx:1.27", "ghcr.io/contoso/ledger-sync:5.1.0-crash-first1"]) {
      const image = (await get(`/api/images/${ref}`)) as unknown as { history: { items: unknown[] } };
      expect(image.history.items, ref).toHaveLength(1);
    }
  });

  it("writes the settings scanctl needs to reach the stack", async () => {
    const text = await readFile(summary.envFile, "utf8");
    const env = Object.fromEntries(
      [...text.matchAll(/^export (\w+)='([^']*)'$/gm)].map((match) => [
        match[1] as string,
        match[2] as string,
      ]),
    );
    expect(env.RECORDER_API_KEY).toBe(API_KEY);
    const deadLetters = await scanctl(["dlq", "list", "--json"], env);
    expect(deadLetters.code, deadLetters.stderr).toBe(0);
    expect(JSON.stringify(deadLetters.json())).toContain("ghcr.io/contoso/catalog:2.0.0-notfound");
    const status = await scanctl(["status", "--json"], env);
    expect(status.code, status.stderr).toBe(0);
  });

  it("stops every process it started on SIGTERM, and removes the settings file", async () => {
    const names = summary.processes.map((child) => child.name).sort();
    expect(names).toEqual(["azurite", "ingest", "recorder", "scanner"]);
    for (const { pid } of summary.processes) expect(isAlive(pid)).toBe(true);

    dev.kill("SIGTERM");
    expect(await exited).toBe(0);
    for (const { name, pid } of summary.processes) {
      await waitFor(() => !isAlive(pid), `${name} (${pid}) to exit`);
      if (name !== "azurite") await waitFor(() => !groupAlive(pid), `${name}'s process group to be empty`);
    }
    expect(existsSync(summary.envFile)).toBe(false);
  }, 60_000);
});
