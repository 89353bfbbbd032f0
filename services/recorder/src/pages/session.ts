/**
 * The status page's login: the recorder key, typed once, buys a signed cookie that expires. The
 * signing secret is derived from the key, so a new key ends every session; the cookie holds only
 * its expiry time, so no replica keeps state. Logout clears the cookie in the browser.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

export const SESSION_COOKIE = "qcs_session";
/** A session lasts a working day. */
export const SESSION_TTL_MS = 8 * 3_600_000;

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** The cookie-signing secret: never the key itself, so a leaked signature says nothing about it. */
export function sessionSecret(apiKey: string): Buffer {
  return createHmac("sha256", apiKey).update("qcs-recorder status-page session v1").digest();
}

/** Compares digests, so the time taken says nothing about the key or its length. */
export function keyMatches(apiKey: string, given: unknown): boolean {
  return typeof given === "string" && given.length > 0 && timingSafeEqual(digest(given), digest(apiKey));
}

/** Over HTTPS, directly or behind Container Apps' ingress (which terminates TLS). */
export function isHttps(request: FastifyRequest): boolean {
  return request.protocol === "https" || request.headers["x-forwarded-proto"] === "https";
}

export function startSession(request: FastifyRequest, reply: FastifyReply, now: number): void {
  reply.setCookie(SESSION_COOKIE, String(now + SESSION_TTL_MS), {
    signed: true,
    httpOnly: true,
    sameSite: "strict",
    secure: isHttps(request),
    path: "/",
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure: isHttps(request),
  });
}

/** A cookie this recorder signed and that has not expired. */
export function hasSession(request: FastifyRequest, now: number): boolean {
  const raw = request.cookies[SESSION_COOKIE];
  if (raw === undefined) return false;
  const { valid, value } = request.unsignCookie(raw);
  if (!valid || value === null) return false;
  const expiresAt = Number(value);
  return Number.isFinite(expiresAt) && expiresAt > now;
}

/** Where to go after login: a path on this site only, never another origin. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith("/login")
    ? next
    : "/";
}
