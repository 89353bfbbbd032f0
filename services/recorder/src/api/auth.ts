/**
 * Bearer API key for /api/*. With no key configured the API refuses every data request with 503
 * rather than serve scan data to anyone who can reach the port; the OpenAPI document stays
 * readable so clients can learn the scheme.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { problem, sendProblem } from "./problem.ts";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

export function bearerKeyGuard(apiKey: string | undefined) {
  const expected = apiKey === undefined ? undefined : digest(apiKey);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (expected === undefined) {
      return sendProblem(reply, problem(503, "the API is disabled: RECORDER_API_KEY is not configured"));
    }
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([^\s]+)$/i.exec(header.trim());
    // Compare digests, so the time taken says nothing about the key or its length.
    if (match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)) return;
    reply.header(
      "www-authenticate",
      header === undefined ? 'Bearer realm="recorder"' : 'Bearer realm="recorder", error="invalid_token"',
    );
    return sendProblem(reply, problem(401, "send Authorization: Bearer <RECORDER_API_KEY>"));
  };
}
