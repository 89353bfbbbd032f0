/**
 * Telemetry across the pipeline: `scanctl dev --once` (Azurite, the Service Bus and Event Hubs
 * emulators, the three services as processes) replays the Container Apps jobs' CloudEvents with
 * the standard OTLP settings pointing at a local OTLP/HTTP receiver. Each recorded image has one
 * trace in which the recorder's span descends from the scanner's, and the scanner's from ingest's
 * send (through the `Diagnostic-Id` each message carries); every service's metrics arrive too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver, waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevSummary } from "../../src/dev/core/summary.ts";
import { EPHEMERAL_PORT_OPTIONS, SCANCTL_BIN } from "../support/devStack.ts";

// Two jobs, three valid images: one scanned at once, one that crashes its first scan and is
// retried (the retry copy carries the original's trace), one more scanned at once.
const EVENTS = new URL("../../../examples/events/cloudevents-jobs.json", import.meta.url).pathname;

describe("telemetry of the pipeline, by OTLP", () => {
  let otlp: OtlpReceiver;
  let dataDir: string;
  let dev: ChildProcess;
  let summary: DevSummary | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    dataDir = await mkdtemp(join(tmpdir(), "qcs-dev-otel-"));
    dev = spawn(
      process.execPath,
      [
        SCANCTL_BIN,
        "dev",
        "--once",
        "--json",
        "--no-sweep",
        "--events",
        EVENTS,
        "--timeout",
        "90",
        "--data-dir",
        dataDir,
        ...EPHEMERAL_PORT_OPTIONS,
      ],
      {
        env: {
          ...process.env,
          NO_COLOR: "1",
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_METRIC_EXPORT_INTERVAL: "1000",
          OTEL_BSP_SCHEDULE_DELAY: "200",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => dev.once("exit", resolve));
    createInterface({ input: dev.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      logs.push(line);
      if (logs.length > 300) logs.shift();
    });
    createInterface({ input: dev.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.startsWith("{")) summary = JSON.parse(line) as DevSummary;
    });
    // --once: the stack stops once the events are processed; the services flush on the way out.
    const code = await exited;
    if (code !== 0 || !summary) throw new Error(`scanctl dev --once ended with ${code}:\n${logs.join("\n")}`);
  }, 120_000);

  afterAll(async () => {
    if (dev && dev.exitCode === null && dev.signalCode === null) dev.kill("SIGKILL");
    await otlp?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("gives each recorded image one trace: ingest's send, then the scanner's scan, then the recorder's write", async () => {
    const recorded = (summary?.imageOutcomes ?? []).filter(({ results }) => results > 0);
    expect(recorded.length).toBe(3);
    await waitFor(
      () =>
        new Set(
          otlp.spans
            .filter(({ name }) => name === "recorder process ScanCompleted")
            .map(({ traceId }) => traceId),
        ).size >= recorded.length,
      "a recorder span per recorded image",
      20_000,
    );
    expect(otlp.rejected).toEqual([]);
    const byId = new Map(otlp.spans.map((span) => [span.spanId, span]));
    const ancestry = (span: ReceivedSpan): ReceivedSpan[] => {
      const chain = [span];
      for (let at = byId.get(span.parentSpanId); at; at = byId.get(at.parentSpanId)) chain.push(at);
      return chain;
    };
    // A result redelivered on a loaded machine (a lock that lapsed) adds a recorder span to its trace.
    const recorderSpans = otlp.spans.filter(({ name }) => name === "recorder process ScanCompleted");
    expect(recorderSpans.length).toBeGreaterThanOrEqual(recorded.length);
    for (const recorder of recorderSpans) {
      const chain = ancestry(recorder);
      // Root first: ingest's span, the scanner's consumer span, the recorder's; each a descendant
      // of the one before (the SDK's own "message" spans sit between them).
      const ours = chain
        .reverse()
        .filter(({ name }) => /^(ingest send|scanner process|recorder process)/.test(name))
        .map(({ service, name }) => `${service}: ${name}`);
      expect(ours).toEqual([
        "ingest: ingest send ScanRequested",
        "scanner: scanner process ScanRequested",
        "recorder: recorder process ScanCompleted",
      ]);
      // Ingest's span is the root (linked to the Event Hubs batch, not its child).
      expect(chain[0]).toMatchObject({ name: "ingest send ScanRequested", parentSpanId: "" });
      expect(chain[0]?.links).toHaveLength(1);
    }
    // Each of our spans names the image: the request's reference, then the result's (with the digest
    // its tag resolved to).
    for (const recorder of recorderSpans) {
      const requested = new Set(
        otlp.spans
          .filter(
            ({ traceId, name }) =>
              traceId === recorder.traceId && /^(ingest send|scanner process)/.test(name),
          )
          .map(({ attributes }) => attributes["qcs.image"]),
      );
      expect(requested.size).toBe(1);
      const ref = String([...requested][0]);
      expect(recorded.map((image) => image.ref)).toContain(ref);
      expect(String(recorder.attributes["qcs.image"])).toContain(ref.split(/[:@]/)[0]);
    }
    // qscanner's runs are children of the scanner's span.
    const scannerIds = new Set(
      otlp.spans.filter(({ name }) => name === "scanner process ScanRequested").map(({ spanId }) => spanId),
    );
    const runs = otlp.spans.filter(({ name }) => name === "qscanner run");
    expect(runs.length).toBeGreaterThanOrEqual(recorded.length);
    for (const run of runs) expect(scannerIds).toContain(run.parentSpanId);
    // One trace per image.
    const traces = [...new Set(recorderSpans.map(({ traceId }) => traceId))];
    expect(traces).toHaveLength(recorded.length);
    // The crashed first attempt and its retry are two scanner spans in that image's one trace (a
    // redelivery on a loaded machine may add one to any trace).
    const scannerSpansPerTrace = traces.map(
      (traceId) =>
        otlp.spans.filter((span) => span.traceId === traceId && span.name === "scanner process ScanRequested")
          .length,
    );
    expect(Math.min(...scannerSpansPerTrace)).toBeGreaterThanOrEqual(1);
    expect(scannerSpansPerTrace.filter((count) => count >= 2).length).toBeGreaterThanOrEqual(1);
  });

  it("receives every service's metrics", async () => {
    await waitFor(
      () =>
        ["ingest_requests_sent", "scanner_scans", "recorder_results_recorded"].every((name) =>
          otlp.metrics.some((metric) => metric.name === name),
        ),
      "the services' metrics",
      10_000,
    );
    const services = (prefix: string) =>
      new Set(otlp.metrics.filter(({ name }) => name.startsWith(prefix)).map(({ service }) => service));
    expect(services("ingest_")).toEqual(new Set(["ingest"]));
    expect(services("scanner_")).toEqual(new Set(["scanner"]));
    expect(services("recorder_")).toEqual(new Set(["recorder"]));
  });
});
