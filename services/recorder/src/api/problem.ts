/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with
 * `type`, `title`, `status` and `detail`, plus `errors` naming each invalid input.
 */
import { STATUS_CODES } from "node:http";
import type { Problem } from "@qcs/shared";
import type { FastifyReply } from "fastify";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** An error the API answers with a problem document of its status. */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  readonly status: number;
  readonly errors: Problem["errors"];
  constructor(status: number, detail: string, errors?: Problem["errors"]) {
    super(detail);
    this.status = status;
    this.errors = errors;
  }
}

export function problem(status: number, detail?: string, errors?: Problem["errors"]): Problem {
  return {
    type: "about:blank",
    title: STATUS_CODES[status] ?? "Error",
    status,
    ...(detail === undefined ? {} : { detail }),
    ...(errors === undefined ? {} : { errors }),
  };
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}
