/**
 * Export beyond /metrics, end to end in a fresh process (the export SDKs register globals): with
 * OTLP settings, metrics, spans and log lines reach a local OTLP/HTTP receiver; with an Application
 * Insights connection string, they reach a local ingestion endpoint in Application Insights'
 * format through the Azure Monitor distro. Either way the Azure SDK traces (its spans are exported
 * and it would stamp messages with a traceparent), and a log line inside a span carries its trace.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { loopbackCertificate } from "@qcs/emulators";
import { type OtlpReceiver, startOtlpReceiver } from "@qcs/test-support";
import { afterEach, describe, expect, it } from "vitest";

const SHARED = new URL("../..", import.meta.url).pathname;
const PROBE = new URL("../fixtures/telemetryProbe.ts", import.meta.url).pathname;

async function runProbe(env: Record<string, string>): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [PROBE], {
    cwd: SHARED,
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 60_000,
  });
  return stdout;
}

describe("telemetry export", () => {
  let otlp: OtlpReceiver | undefined;
  afterEach(async () => otlp?.close());

  it("sends metrics, spans and logs by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set", async () => {
    otlp = await startOtlpReceiver();
    const stdout = await runProbe({
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });

    expect(stdout).toMatch(/"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"/);
    expect(otlp.rejected).toEqual([]);
    expect(otlp.metrics).toContainEqual({ service: "probe", name: "probe_events_total" });
    const work = otlp.spans.find((span) => span.name === "probe work");
    expect(work).toMatchObject({ service: "probe", parentSpanId: "" });
    const send = otlp.spans.find((span) => span.name === "probe send");
    expect(send).toMatchObject({ traceId: work?.traceId, parentSpanId: work?.spanId });
    expect(otlp.logs).toContainEqual({
      service: "probe",
      body: "inside the span",
      severityText: "INFO",
      traceId: work?.traceId,
    });
  }, 70_000);

  it("sends only metrics when OTEL_METRICS_EXPORTER alone asks for OTLP", async () => {
    otlp = await startOtlpReceiver();
    const stdout = await runProbe({
      OTEL_METRICS_EXPORTER: "otlp",
      OTEL_TRACES_EXPORTER: "none",
      OTEL_LOGS_EXPORTER: "none",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${otlp.url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    expect(stdout).toContain('"traceparent":"none"');
    expect(otlp.metrics.map(({ name }) => name)).toContain("probe_events_total");
    expect(otlp.spans).toEqual([]);
    expect(otlp.logs).toEqual([]);
  }, 70_000);

  it("sends only logs when only the logs endpoint is set", async () => {
    otlp = await startOtlpReceiver();
    const stdout = await runProbe({
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${otlp.url}/v1/logs`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    expect(stdout).toContain('"traceparent":"none"');
    expect(otlp.logs.map(({ body }) => body)).toContain("inside the span");
    expect(otlp.spans).toEqual([]);
    expect(otlp.metrics).toEqual([]);
  }, 70_000);

  it("sends metrics, traces and logs to Application Insights when its connection string is set", async () => {
    const envelopes: Array<{
      name: string;
      tags?: Record<string, string>;
      data?: { baseData?: Record<string, unknown> };
    }> = [];
    // The exporter speaks HTTPS only: a throw-away certificate, trusted by the probe alone.
    const certificate = await loopbackCertificate("127.0.0.1");
    const dir = await mkdtemp(join(tmpdir(), "qcs-appinsights-"));
    const caFile = join(dir, "ca.pem");
    await writeFile(caFile, certificate.cert);
    const ingestion = createServer(certificate, (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const raw = Buffer.concat(chunks);
        const text =
          request.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString() : raw.toString();
        if (request.url?.includes("/track")) envelopes.push(...JSON.parse(text));
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => ingestion.listen(0, "127.0.0.1", resolve));
    const { port } = ingestion.address() as AddressInfo;
    try {
      const stdout = await runProbe({
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:${port}/`,
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
        NODE_EXTRA_CA_CERTS: caFile,
      });
      expect(stdout).toMatch(/"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"/);
      const of = (type: string) => envelopes.filter(({ name }) => name.endsWith(`.${type}`));
      const metricNames = of("Metric").flatMap(
        ({ data }) =>
          (data?.baseData?.metrics as Array<{ name: string }> | undefined)?.map(({ name }) => name) ?? [],
      );
      expect(metricNames).toContain("probe_events_total");
      const spans = [...of("Request"), ...of("RemoteDependency")];
      const work = spans.find(({ data }) => data?.baseData?.name === "probe work");
      expect(work?.tags?.["ai.cloud.role"]).toBe("probe");
      const operation = work?.tags?.["ai.operation.id"];
      expect(spans.find(({ data }) => data?.baseData?.name === "probe send")?.tags?.["ai.operation.id"]).toBe(
        operation,
      );
      const log = of("Message").find(({ data }) => data?.baseData?.message === "inside the span");
      expect(log?.tags?.["ai.operation.id"]).toBe(operation);
    } finally {
      ingestion.closeAllConnections();
      await new Promise((resolve) => ingestion.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  }, 70_000);
});
