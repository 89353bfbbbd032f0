/**
 * `/_admin/faults` on an emulator's HTTP server, so that a person or a test outside the process
 * can inject faults into a running `npm run emulators` or `npm start`:
 * `GET` lists the active rules, `POST` adds a JSON array of rules, `DELETE` clears them all (and
 * answers held requests). Only loopback clients may call it, even when the emulator listens on
 * another address.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { parseFaultRules } from "./faultRules.ts";
import type { Faults } from "./faults.ts";

export const FAULTS_ADMIN_PATH = "/_admin/faults";

export function registerFaultAdmin(app: FastifyInstance, faults: Faults): void {
  app.get(FAULTS_ADMIN_PATH, { preHandler: loopbackOnly }, async () => ({ rules: faults.list() }));
  app.post(FAULTS_ADMIN_PATH, { preHandler: loopbackOnly }, async (request, reply) => {
    const parsed = parseFaultRules(request.body);
    if (!parsed.ok) return reply.code(400).send({ error: "invalid fault rules", problems: parsed.problems });
    for (const rule of parsed.rules) faults.add(rule);
    return { rules: faults.list() };
  });
  app.delete(FAULTS_ADMIN_PATH, { preHandler: loopbackOnly }, async (_request, reply) => {
    faults.clear();
    return reply.code(204).send();
  });
}

/** Refuses callers not on this machine (preHandler for admin routes). */
export async function loopbackOnly(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!isLoopback(request.socket.remoteAddress)) {
    await reply.code(403).send({ error: "admin endpoints answer loopback clients only" });
  }
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || /^(::ffff:)?127\./.test(address));
}
