/** ARM's error answers, shared by the resource routes and Resource Graph. */
import type { FastifyReply } from "fastify";

export type ArmError = { status: number; code: string; message: string; details?: unknown[] };

export function sendArmError(reply: FastifyReply, error: ArmError): FastifyReply {
  if (error.status === 404) reply.header("x-ms-failure-cause", "gateway");
  const { code, message, details } = error;
  return reply.code(error.status).send({ error: { code, message, ...(details ? { details } : {}) } });
}

const FAULT_CODES: Readonly<Record<number, string>> = {
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
};

/** The error an injected fault answers with. */
export function faultError(status: number): ArmError {
  return { status, code: FAULT_CODES[status] ?? `Http${status}`, message: `Injected fault: HTTP ${status}.` };
}

/** 400 for a missing or unsupported api-version, as ARM words it; undefined when `apiVersion` is served. */
export function apiVersionError(
  apiVersion: string | undefined,
  type: string,
  served: readonly string[],
): ArmError | undefined {
  if (!apiVersion) {
    return {
      status: 400,
      code: "MissingApiVersionParameter",
      message: "The api-version query parameter (?api-version=) is required for all requests.",
    };
  }
  if (served.includes(apiVersion)) return undefined;
  return {
    status: 400,
    code: "NoRegisteredProviderFound",
    message: `No registered resource provider found for API version '${apiVersion}' and type '${type}'. The supported api-versions are '${served.join(", ")}'.`,
  };
}
