/**
 * A local ARM endpoint for container groups, container apps and jobs, served from an inventory of
 * documents at the URLs and api-versions the Azure SDK clients call, so that
 * `@azure/arm-containerinstance` and `@azure/arm-appcontainers` run unchanged against it. It
 * answers like ARM: GET of one resource, list by resource group and by subscription, 404 with
 * ARM's error body for what does not exist, 400 for a missing or unsupported api-version, 401
 * without a bearer token. It also answers Resource Graph's query endpoint over the same inventory
 * (resourceGraphRoute.ts). Faults can be injected for resilience tests, in process or through
 * `/_admin/faults` (loopback clients only, no token).
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyReply } from "fastify";
import { FAULTS_ADMIN_PATH, registerFaultAdmin } from "../faults/adminRoutes.ts";
import { type FaultRule, Faults } from "../faults/faults.ts";
import { type ArmError, apiVersionError, faultError, sendArmError } from "./armErrors.ts";
import { type ArmResource, Inventory, readInventoryFile, SERVED_TYPES } from "./inventory.ts";
import type { QuotaOptions } from "./quota.ts";
import { registerResourceGraph } from "./resourceGraphRoute.ts";
import { loopbackCertificate } from "./tls.ts";

export type { FaultRule } from "../faults/faults.ts";
export { type ArmResource, projectArmInventoryPath } from "./inventory.ts";
export { RESOURCE_GRAPH_PATH } from "./resourceGraphRoute.ts";

export interface StartArmEmulatorOptions {
  /** Default: 127.0.0.1. */
  host?: string;
  /** Default: 0 (a free port). */
  port?: number;
  /**
   * Path of an inventory JSON file (an array, or `{ "value": [...] }`), or the documents themselves,
   * as the ARM REST API returns them.
   */
  inventory: string | ArmResource[];
  /** A further DNS name for the certificate (besides localhost, loopback and `host`). */
  certificateName?: string;
  /** When set, requests must carry exactly `Authorization: Bearer <token>`; otherwise any bearer token. */
  token?: string;
  /** Fault rules active from the start (e.g. from a `--arm-faults` file). */
  faults?: readonly FaultRule[];
  /**
   * The most rows one Resource Graph answer holds, whatever `$top` asks (Resource Graph: 1000);
   * small values make a sweep's paging testable. Default: 1000.
   */
  resourceGraphPageSize?: number;
  /**
   * Resource Graph's per-user quota (Azure: 15 requests per 5 s): answers then carry
   * `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after`, and requests beyond it get 429.
   * Default: no quota.
   */
  resourceGraphQuota?: QuotaOptions;
}

export interface ArmRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  apiVersion: string | undefined;
  /** Undefined while the request is being answered (held by a delay fault). */
  status: number | undefined;
  /** When the request arrived (ms since the epoch). */
  receivedAt: number;
}

export interface RunningArmEmulator {
  /** `https://<host>:<port>`: the endpoint for the SDK clients. */
  url: string;
  port: number;
  /** PEM certificate the clients must trust (self-signed). */
  ca: string;
  /**
   * Injected faults: `faults.add({ resourceId, status: 429, retryAfterSeconds: 1, times: 1 })`, or
   * `{ path: "/providers/Microsoft.ResourceGraph/resources", status: 429 }` for Resource Graph.
   */
  faults: Pick<Faults, "add" | "clear" | "list">;
  /** `<url>/_admin/faults`: the same from outside the process (GET, POST a JSON array of rules, DELETE). */
  faultsUrl: string;
  /** Every request, in order of arrival. */
  requests: readonly ArmRequestRecord[];
  /** Adds or replaces a resource. */
  put(resource: ArmResource): void;
  /** Deletes a resource; true when it existed. */
  remove(resourceId: string): boolean;
  close(): Promise<void>;
}

export async function startArmEmulator(options: StartArmEmulatorOptions): Promise<RunningArmEmulator> {
  const host = options.host ?? "127.0.0.1";
  const inventory = new Inventory(
    typeof options.inventory === "string" ? await readInventoryFile(options.inventory) : options.inventory,
  );
  const faults = new Faults();
  for (const rule of options.faults ?? []) faults.add(rule);
  const requests: ArmRequestRecord[] = [];
  const tls = await loopbackCertificate(host, options.certificateName);
  const app = Fastify({ https: { cert: tls.cert, key: tls.key }, logger: false });

  const records = new WeakMap<object, ArmRequestRecord>();

  app.addHook("onRequest", async (request, reply) => {
    const [path = "", query = ""] = request.url.split("?");
    // The admin endpoint is not ARM: no token, not in `requests`; it checks its caller itself.
    if (path === FAULTS_ADMIN_PATH) return;
    const record: ArmRequestRecord = {
      method: request.method,
      path: decodeURIComponent(path),
      apiVersion: new URLSearchParams(query).get("api-version") ?? undefined,
      status: undefined,
      receivedAt: Date.now(),
    };
    records.set(request, record);
    requests.push(record);
    reply.header("x-ms-request-id", randomUUID());
    reply.header(
      "x-ms-correlation-request-id",
      request.headers["x-ms-correlation-request-id"] ?? randomUUID(),
    );
    const authorization = request.headers.authorization ?? "";
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (token === undefined) {
      return sendArmError(reply, {
        status: 401,
        code: "AuthenticationFailed",
        message: "Authentication failed. The 'Authorization' header is missing.",
      });
    }
    if (options.token !== undefined && token !== options.token) {
      return sendArmError(reply, {
        status: 401,
        code: "InvalidAuthenticationToken",
        message: "The access token is invalid.",
      });
    }
  });

  app.addHook("onResponse", async (request, reply) => {
    const record = records.get(request);
    if (record) record.status = reply.statusCode;
  });

  registerFaultAdmin(app, faults);
  registerResourceGraph(app, {
    resources: () => inventory.all(),
    faults,
    ...(options.resourceGraphPageSize === undefined ? {} : { maxPageSize: options.resourceGraphPageSize }),
    ...(options.resourceGraphQuota === undefined ? {} : { quota: options.resourceGraphQuota }),
  });

  app.get<{ Querystring: Record<string, string | undefined> }>("/subscriptions/*", async (request, reply) => {
    const path = decodeURIComponent(request.url.split("?")[0] ?? "");
    const route = parseRoute(path);
    if ("error" in route) return sendArmError(reply, route.error);
    const apiVersion = request.query["api-version"];
    const served = SERVED_TYPES.get(route.type);
    if (!served) {
      return sendArmError(reply, {
        status: 400,
        code: "InvalidResourceType",
        message: `The resource type '${route.type}' could not be found in this emulator.`,
      });
    }
    const versionError = apiVersionError(apiVersion, served.type, served.apiVersions);
    if (versionError) return sendArmError(reply, versionError);

    const fault = faults.take(route.name === undefined ? { path } : { path, resourceId: path });
    if (fault) {
      const answered = await applyFault(fault, faults, reply);
      if (answered) return reply;
    }

    if (route.name === undefined) {
      return reply.send({ value: inventory.list(route.subscriptionId, route.type, route.resourceGroup) });
    }
    const resource = inventory.get(path);
    if (resource) return reply.send(resource);
    const { resourceGroup = "", subscriptionId } = route;
    if (!inventory.hasResourceGroup(subscriptionId, resourceGroup)) {
      return sendArmError(reply, {
        status: 404,
        code: "ResourceGroupNotFound",
        message: `Resource group '${resourceGroup}' could not be found.`,
      });
    }
    return sendArmError(reply, {
      status: 404,
      code: "ResourceNotFound",
      message: `The Resource '${served.type}/${route.name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendArmError(reply, {
      status: 404,
      code: "NotFound",
      message: `No HTTP resource was found that matches the request URI '${request.url.split("?")[0]}'.`,
    }),
  );

  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `https://${urlHost}:${port}`,
    port,
    ca: tls.cert,
    faults,
    faultsUrl: `https://${urlHost}:${port}${FAULTS_ADMIN_PATH}`,
    requests,
    put: (resource) => inventory.put(resource),
    remove: (resourceId) => inventory.remove(resourceId),
    close: async () => {
      faults.clear();
      await app.close();
    },
  };
}

interface Route {
  subscriptionId: string;
  resourceGroup: string | undefined;
  /** Lower-case `namespace/type`. */
  type: string;
  name: string | undefined;
}

/**
 * `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}[/{name}]` or
 * `/subscriptions/{s}/providers/{ns}/{type}`; keywords in any casing, as ARM accepts them.
 */
function parseRoute(path: string): Route | { error: ArmError } {
  const segments = path.split("/").slice(1);
  const [, subscriptionId = ""] = segments;
  let rest = segments.slice(2);
  let resourceGroup: string | undefined;
  if (rest[0]?.toLowerCase() === "resourcegroups") {
    resourceGroup = rest[1];
    rest = rest.slice(2);
  }
  const [providers, namespace, type, name, ...extra] = rest;
  if (
    providers?.toLowerCase() !== "providers" ||
    !namespace ||
    !type ||
    extra.length > 0 ||
    !subscriptionId
  ) {
    return {
      error: {
        status: 404,
        code: "NotFound",
        message: `No HTTP resource was found that matches the request URI '${path}'.`,
      },
    };
  }
  if (name !== undefined && resourceGroup === undefined) {
    return {
      error: {
        status: 400,
        code: "InvalidResourceType",
        message: `The resource type '${namespace}/${type}' has no subscription-level resources.`,
      },
    };
  }
  return { subscriptionId, resourceGroup, type: `${namespace}/${type}`.toLowerCase(), name };
}

async function applyFault(fault: FaultRule, faults: Faults, reply: FastifyReply): Promise<boolean> {
  if (fault.delayMs !== undefined) await faults.hold(fault.delayMs);
  if (fault.status === undefined) return false;
  if (fault.retryAfterSeconds !== undefined) reply.header("retry-after", String(fault.retryAfterSeconds));
  sendArmError(reply, faultError(fault.status));
  return true;
}
