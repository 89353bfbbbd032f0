/**
 * Resource Graph's query endpoint on the ARM emulator (ARM and Resource Graph share
 * management.azure.com, so clients reach both with one endpoint and token). The query itself is
 * answered by resourceGraph.ts; this module adds HTTP: api-version, faults, the optional quota, and
 * Resource Graph's throttling answer (429 with its quota headers).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import type { FaultRule, Faults } from "../faults/faults.ts";
import { apiVersionError, faultError, sendArmError } from "./armErrors.ts";
import type { ArmResource } from "./inventory.ts";
import { hhmmss, type QuotaOptions, QuotaWindow } from "./quota.ts";
import { queryResourceGraph, RESOURCE_GRAPH_API_VERSIONS } from "./resourceGraph.ts";

export const RESOURCE_GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources";

export interface ResourceGraphRouteOptions {
  resources: () => readonly ArmResource[];
  faults: Faults;
  /** See {@link ResourceGraphQueryOptions.maxPageSize}. */
  maxPageSize?: number;
  /** When set, answers carry the quota headers and requests beyond the quota get 429. */
  quota?: QuotaOptions;
}

export function registerResourceGraph(app: FastifyInstance, options: ResourceGraphRouteOptions): void {
  const quota = options.quota === undefined ? undefined : new QuotaWindow(options.quota);
  app.post<{ Querystring: Record<string, string | undefined> }>(
    RESOURCE_GRAPH_PATH,
    async (request, reply) => {
      const versionError = apiVersionError(
        request.query["api-version"],
        "Microsoft.ResourceGraph/resources",
        RESOURCE_GRAPH_API_VERSIONS,
      );
      if (versionError) return sendArmError(reply, versionError);

      const fault = options.faults.take({ path: RESOURCE_GRAPH_PATH });
      if (fault) {
        if (fault.delayMs !== undefined) await options.faults.hold(fault.delayMs);
        if (fault.status !== undefined) return sendFault(reply, fault, fault.status);
      }
      const decision = quota?.take();
      if (decision) {
        reply.header("x-ms-user-quota-remaining", String(decision.remaining));
        reply.header("x-ms-user-quota-resets-after", hhmmss(decision.resetsAfterSeconds));
        if (!decision.allowed) {
          reply.header("retry-after", String(decision.resetsAfterSeconds));
          return sendThrottled(reply);
        }
      }

      const answer = queryResourceGraph(
        options.resources(),
        request.body,
        options.maxPageSize === undefined ? {} : { maxPageSize: options.maxPageSize },
      );
      if (answer.ok) return reply.send(answer.page);
      return sendArmError(reply, {
        status: 400,
        code: "BadRequest",
        message: "Please provide below info when asking for support: the request's x-ms-request-id.",
        details: [{ code: answer.code, message: answer.message }],
      });
    },
  );
}

function sendFault(reply: FastifyReply, fault: FaultRule, status: number): FastifyReply {
  if (fault.retryAfterSeconds !== undefined) reply.header("retry-after", String(fault.retryAfterSeconds));
  if (status !== 429) return sendArmError(reply, faultError(status));
  // An injected 429 is a spent quota: nothing left until the window resets.
  reply.header("x-ms-user-quota-remaining", "0");
  reply.header("x-ms-user-quota-resets-after", hhmmss(fault.retryAfterSeconds ?? 5));
  return sendThrottled(reply);
}

function sendThrottled(reply: FastifyReply): FastifyReply {
  return sendArmError(reply, {
    status: 429,
    code: "RateLimiting",
    message:
      "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.",
  });
}
