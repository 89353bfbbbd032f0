/**
 * Resolving a tag to the digest it points at now (OCI distribution API), the decisions only: where
 * the manifest is, which media types are accepted, what a bearer challenge asks for and what the
 * registry's answer means. The HTTP calls are adapters/registry/registryDigestResolver.ts.
 */
import type { ImageRef } from "@qcs/shared";
import type { Failure } from "./failurePolicy.ts";

/** OCI image index and manifest, Docker manifest list and v2 manifest: the digest of what a pull gets. */
export const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Registries whose API is not served at the host that names them. */
const API_HOSTS: Readonly<Record<string, string>> = { "docker.io": "registry-1.docker.io" };

export interface ManifestLocation {
  /** Scheme, host and port the registry API is reached at. */
  origin: string;
  /** The repository's name on that API. */
  repository: string;
  url: string;
}

/**
 * Where the manifest of `image` at `reference` (tag or digest) is: on the registry itself, or,
 * with `baseUrl` (local stack, tests), on one API for every host, the repository named
 * `<host>/<repository>` as the local registry emulator names it.
 */
export function manifestLocation(
  image: Pick<ImageRef, "registry" | "repository">,
  reference: string,
  baseUrl?: string,
): ManifestLocation {
  const origin = baseUrl ?? `https://${API_HOSTS[image.registry] ?? image.registry}`;
  const repository = baseUrl === undefined ? image.repository : `${image.registry}/${image.repository}`;
  return { origin, repository, url: `${origin}/v2/${repository}/manifests/${reference}` };
}

export interface BearerChallenge {
  realm: string;
  service?: string;
  scope?: string;
}

/** The `Bearer realm="…",service="…",scope="…"` challenge of a `WWW-Authenticate` header, if it is one. */
export function parseBearerChallenge(header: string | null | undefined): BearerChallenge | undefined {
  const match = /^\s*Bearer\s+(.*)$/is.exec(header ?? "");
  if (!match) return undefined;
  const params = new Map<string, string>();
  for (const [, name = "", quoted, bare] of (match[1] ?? "").matchAll(
    /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g,
  )) {
    params.set(name.toLowerCase(), quoted?.replace(/\\(.)/g, "$1") ?? bare ?? "");
  }
  const realm = params.get("realm");
  if (realm === undefined || !URL.canParse(realm) || !/^https?:$/.test(new URL(realm).protocol)) {
    return undefined;
  }
  const challenge: BearerChallenge = { realm };
  const service = params.get("service");
  const scope = params.get("scope");
  if (service) challenge.service = service;
  if (scope) challenge.scope = scope;
  return challenge;
}

/** The pull scope to ask a token for when the challenge names none. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export type ManifestAnswer =
  | { kind: "digest"; digest: string }
  /** The registry answered without a usable `Docker-Content-Digest`: scan by tag. */
  | { kind: "noDigest" }
  | { kind: "failed"; failure: Failure }
  /** 5xx and anything unexpected: the request is abandoned and redelivered. */
  | { kind: "transient"; message: string };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** What the answer to a manifest HEAD (after authentication) means. */
export function interpretManifestAnswer(
  answer: { status: number; digest: string | null; retryAfter: string | null },
  what: string,
  now: Date,
): ManifestAnswer {
  const { status } = answer;
  if (status >= 200 && status < 300) {
    return answer.digest !== null && DIGEST.test(answer.digest)
      ? { kind: "digest", digest: answer.digest }
      : { kind: "noDigest" };
  }
  return registryRefusal(status, answer.retryAfter, `${what}: HEAD manifest answered HTTP ${status}`, now);
}

/** A registry or token endpoint's error status as a classified failure, or transient. */
export function registryRefusal(
  status: number,
  retryAfter: string | null,
  message: string,
  now: Date,
): Exclude<ManifestAnswer, { kind: "digest" } | { kind: "noDigest" }> {
  if (status === 404) return { kind: "failed", failure: { failureClass: "ImageNotFound", message } };
  if (status === 401 || status === 403) {
    return { kind: "failed", failure: { failureClass: "RegistryAuthFailed", message } };
  }
  if (status === 429) {
    const failure: Failure = { failureClass: "RateLimited", message };
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
    return { kind: "failed", failure };
  }
  return { kind: "transient", message };
}

/** `Retry-After` (delay seconds or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}
