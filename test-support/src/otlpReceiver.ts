/**
 * A local OTLP/HTTP receiver for tests: the endpoint for `OTEL_EXPORTER_OTLP_ENDPOINT` with
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`. It decodes what arrives on /v1/traces, /v1/metrics and
 * /v1/logs into flat lists a test can search.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  /** The spans it links to, as "traceId/spanId". */
  links: string[];
}

export interface ReceivedMetric {
  service: string;
  name: string;
}

export interface ReceivedLog {
  service: string;
  body: string;
  severityText: string;
  traceId: string;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  logs: ReceivedLog[];
  /** Requests it could not decode (a protobuf body, say), by path. */
  rejected: string[];
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}
interface Resource {
  attributes?: KeyValue[];
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: Omit<OtlpReceiver, "url" | "close"> = { spans: [], metrics: [], logs: [], rejected: [] };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown[]>;
        record(receiver, request.url ?? "", body);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch {
        receiver.rejected.push(request.url ?? "");
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...receiver,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function record(
  receiver: Omit<OtlpReceiver, "url" | "close">,
  path: string,
  body: Record<string, unknown[]>,
) {
  if (path.endsWith("/v1/traces")) {
    for (const { resource, scopeSpans } of (body.resourceSpans ?? []) as Array<{
      resource?: Resource;
      scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
    }>) {
      const service = serviceOf(resource);
      for (const span of (scopeSpans ?? []).flatMap((scope) => scope.spans ?? [])) {
        receiver.spans.push({
          service,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: String(span.name),
          kind: Number(span.kind ?? 0),
          attributes: attributesOf(span.attributes as KeyValue[] | undefined),
          links: ((span.links ?? []) as Array<Record<string, unknown>>).map(
            (link) => `${hex(link.traceId)}/${hex(link.spanId)}`,
          ),
        });
      }
    }
  } else if (path.endsWith("/v1/metrics")) {
    for (const { resource, scopeMetrics } of (body.resourceMetrics ?? []) as Array<{
      resource?: Resource;
      scopeMetrics?: Array<{ metrics?: Array<{ name: string }> }>;
    }>) {
      const service = serviceOf(resource);
      for (const metric of (scopeMetrics ?? []).flatMap((scope) => scope.metrics ?? [])) {
        receiver.metrics.push({ service, name: metric.name });
      }
    }
  } else if (path.endsWith("/v1/logs")) {
    for (const { resource, scopeLogs } of (body.resourceLogs ?? []) as Array<{
      resource?: Resource;
      scopeLogs?: Array<{ logRecords?: Array<Record<string, unknown>> }>;
    }>) {
      const service = serviceOf(resource);
      for (const log of (scopeLogs ?? []).flatMap((scope) => scope.logRecords ?? [])) {
        const body = log.body as { stringValue?: string } | undefined;
        receiver.logs.push({
          service,
          body: body?.stringValue ?? "",
          severityText: String(log.severityText ?? ""),
          traceId: hex(log.traceId),
        });
      }
    }
  } else {
    throw new Error(`unknown OTLP path ${path}`);
  }
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
}

function serviceOf(resource: Resource | undefined): string {
  return String(attributesOf(resource?.attributes)["service.name"] ?? "");
}

/** OTLP/JSON carries ids as hex; some encoders send base64 (the protobuf JSON mapping). */
function hex(id: unknown): string {
  if (typeof id !== "string" || id === "") return "";
  return /^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)
    ? id.toLowerCase()
    : Buffer.from(id, "base64").toString("hex");
}
