/**
 * A webhook receiver for the local stack and tests: accepts the notifier's three formats
 * (CloudEvents structured JSON, a Teams Adaptive Card message, Slack blocks) on loopback, checks
 * `X-QCS-Signature` against the secret it was given, and lists what it received at `GET /`
 * (newest last). Tests script its answers (`answerNext`, `alwaysAnswer`) to play a failing receiver.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export type WebhookFormat = "cloudevents" | "teams" | "slack" | "unknown";

export interface ReceivedWebhook {
  /** The request's path without its query. */
  path: string;
  format: WebhookFormat;
  /** The CloudEvent's `id`, `type` and `subject` (the image); Teams and Slack carry a title only. */
  id?: string;
  type?: string;
  ref?: string;
  title?: string;
  /** `unsigned` when the sink has no secret or the request no header. */
  signature: "valid" | "invalid" | "unsigned";
  /** What the sink answered. */
  status: number;
  body: unknown;
}

export interface WebhookSinkOptions {
  host?: string;
  port?: number;
  /** NOTIFY_WEBHOOK_SECRET, to verify signatures with. */
  secret?: string;
}

export interface RunningWebhookSink {
  url: string;
  received(): ReceivedWebhook[];
  /** The next requests get these statuses, in order; then 200 again. */
  answerNext(statuses: number[]): void;
  /** Every request (to `path` only, when given) gets this status from now on; undefined: back to 200. */
  alwaysAnswer(status: number | undefined, path?: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

export async function startWebhookSink(options: WebhookSinkOptions = {}): Promise<RunningWebhookSink> {
  const received: ReceivedWebhook[] = [];
  let queued: number[] = [];
  const always = new Map<string | undefined, number>();

  const server = createServer(async (request, response) => {
    if (request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(received));
      return;
    }
    if (request.method !== "POST") {
      response.writeHead(405).end();
      return;
    }
    const raw = await readBody(request).catch(() => undefined);
    if (raw === undefined) {
      response.writeHead(413).end();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      response.writeHead(400).end("not JSON");
      return;
    }
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const status =
      queued.shift() ?? always.get(path) ?? always.get(undefined) ?? (isKnown(request, body) ? 200 : 400);
    received.push({
      // Without the query: webhook URLs carry their key there, and this list is for reading.
      path,
      ...describe(request, body),
      signature: verify(options.secret, request.headers["x-qcs-signature"], raw),
      status,
      body,
    });
    response.writeHead(status, { "content-type": "text/plain" });
    response.end(status < 300 ? "ok" : `sink answers ${status} as scripted`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    received: () => [...received],
    answerNext: (statuses) => {
      queued = [...statuses];
    },
    alwaysAnswer: (status, path) => {
      if (status === undefined) always.delete(path);
      else always.set(path, status);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) reject(new Error("too large"));
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

type Described = Pick<ReceivedWebhook, "format" | "id" | "type" | "ref" | "title">;

function describe(request: IncomingMessage, body: unknown): Described {
  const object = (body ?? {}) as Record<string, unknown>;
  if (String(request.headers["content-type"]).startsWith("application/cloudevents+json")) {
    return {
      format: "cloudevents",
      id: String(object.id),
      type: String(object.type),
      ...(typeof object.subject === "string" ? { ref: object.subject } : {}),
    };
  }
  if (object.type === "message" && Array.isArray(object.attachments)) {
    const card = (object.attachments[0] as { content?: { body?: Array<{ text?: string }> } })?.content;
    return { format: "teams", ...titled(card?.body?.[0]?.text) };
  }
  if (Array.isArray(object.blocks)) return { format: "slack", ...titled(object.text) };
  return { format: "unknown" };
}

function titled(title: unknown): { title?: string } {
  return typeof title === "string" ? { title } : {};
}

function isKnown(request: IncomingMessage, body: unknown): boolean {
  const described = describe(request, body);
  if (described.format !== "cloudevents") return described.format !== "unknown";
  const event = body as Record<string, unknown>;
  return event.specversion === "1.0" && !!event.id && !!event.type && !!event.source;
}

function verify(secret: string | undefined, header: string | string[] | undefined, raw: string) {
  if (secret === undefined || typeof header !== "string") return "unsigned" as const;
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected) ? "valid" : "invalid";
}
