/**
 * The part of Service Bus's management API (ATOM over HTTP) that reads runtime counts:
 * `GET /<queue>`, `GET /<topic>`, `GET /<topic>/Subscriptions/<subscription>` answer the entry
 * documents `ServiceBusAdministrationClient.get*RuntimeProperties` parse (`CountDetails` with
 * active, scheduled and dead-lettered counts). Microsoft's emulator serves its management API on
 * port 5300; this one listens wherever it is told, over plain HTTP as that one does, and also
 * answers its `GET /health`. Creating, changing or listing entities is not offered: the broker's
 * entities come from Config.json.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { RuntimeCounts } from "./namespace.ts";

export interface ServiceBusAdminApiOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Counts of the entity at a path (`queue`, `topic`, `topic/Subscriptions/sub`); undefined if unknown. */
  runtimeCounts(path: string): RuntimeCounts | undefined;
}

export interface RunningServiceBusAdminApi {
  port: number;
  close(): Promise<void>;
}

const ATOM = "http://www.w3.org/2005/Atom";
const CONNECT = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect";
const COUNTS = "http://schemas.microsoft.com/netservices/2011/06/servicebus";
const DESCRIPTION = {
  queue: "QueueDescription",
  topic: "TopicDescription",
  subscription: "SubscriptionDescription",
};

export async function startServiceBusAdminApi(
  options: ServiceBusAdminApiOptions,
): Promise<RunningServiceBusAdminApi> {
  const startedAt = new Date().toISOString();
  const server: Server = createServer((request, response) => answer(request, response, options, startedAt));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 }, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  options: ServiceBusAdminApiOptions,
  startedAt: string,
) {
  const url = new URL(request.url ?? "/", "http://localhost");
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  if (request.method === "GET" && path === "health") {
    response.writeHead(200, { "content-type": "application/json" }).end('{"status":"healthy"}');
    return;
  }
  if (request.method !== "GET") {
    return error(
      response,
      405,
      "Only reading runtime properties is supported; entities come from Config.json.",
    );
  }
  const counts = path === "" ? undefined : options.runtimeCounts(path);
  if (counts === undefined) return error(response, 404, `The messaging entity '${path}' could not be found.`);
  const id = `https://${request.headers.host ?? "localhost"}/${path}${url.search}`;
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<entry xmlns="${ATOM}">` +
    `<id>${text(id)}</id>` +
    `<title type="text">${text(path.split("/").at(-1) ?? path)}</title>` +
    `<published>${startedAt}</published><updated>${startedAt}</updated>` +
    `<link rel="self" href="${text(id)}"/>` +
    '<content type="application/xml">' +
    `<${DESCRIPTION[counts.kind]} xmlns="${CONNECT}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` +
    `<SizeInBytes>0</SizeInBytes><MessageCount>${counts.total}</MessageCount>` +
    `<CreatedAt>${startedAt}</CreatedAt><UpdatedAt>${startedAt}</UpdatedAt><AccessedAt>${new Date().toISOString()}</AccessedAt>` +
    `<CountDetails xmlns:d2p1="${COUNTS}">` +
    `<d2p1:ActiveMessageCount>${counts.active}</d2p1:ActiveMessageCount>` +
    `<d2p1:DeadLetterMessageCount>${counts.deadLettered}</d2p1:DeadLetterMessageCount>` +
    `<d2p1:ScheduledMessageCount>${counts.scheduled}</d2p1:ScheduledMessageCount>` +
    "<d2p1:TransferMessageCount>0</d2p1:TransferMessageCount>" +
    "<d2p1:TransferDeadLetterMessageCount>0</d2p1:TransferDeadLetterMessageCount>" +
    "</CountDetails>" +
    `</${DESCRIPTION[counts.kind]}>` +
    "</content></entry>";
  response.writeHead(200, { "content-type": "application/atom+xml;type=entry;charset=utf-8" }).end(body);
}

function error(response: ServerResponse, status: number, detail: string) {
  response
    .writeHead(status, { "content-type": "application/xml; charset=utf-8" })
    .end(`<Error><Code>${status}</Code><Detail>${text(detail)}</Detail></Error>`);
}

function text(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
