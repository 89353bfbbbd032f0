/**
 * Container image references after the distribution grammar (github.com/distribution/reference):
 * parse, validate and normalise to one canonical string, so that the same image always yields the
 * same reference and dedup key, and so that nothing that is not an image reference ever reaches a
 * subprocess argument list.
 */
import { redactSecrets } from "./redact.ts";

export interface ImageRef {
  /** Canonical reference: `registry/repository:tag` or `registry/repository@digest`. */
  ref: string;
  /** Registry host, with port when one was given (`docker.io`, `localhost:5000`, `[::1]:5000`). */
  registry: string;
  /** Repository path inside the registry (`library/nginx`, `team/app`). */
  repository: string;
  /** Tag, when the input had one (or `latest` when it had neither tag nor digest). */
  tag?: string;
  /** Content digest (`sha256:<64 hex>`), when the input had one. */
  digest?: string;
}

export type ImageRefResult = { ok: true; value: ImageRef } | { ok: false; reason: string };

export class ImageRefError extends Error {
  override readonly name = "ImageRefError";
  readonly code = "INVALID_IMAGE_REFERENCE";
  readonly input: string;
  readonly reason: string;
  constructor(input: string, reason: string) {
    // Redacted before it is shortened: a secret cut at the edge would no longer be recognised.
    super(`invalid image reference ${JSON.stringify(truncate(redactSecrets(input)))}: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}

export const DOCKER_HUB = "docker.io";
const LEGACY_DOCKER_HUB = "index.docker.io";
const MAX_NAME_LENGTH = 255;
const MAX_INPUT_LENGTH = 1024;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_ALGORITHM = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*$/;
const DIGEST_HEX = /^[0-9a-fA-F]{32,}$/;
/** Digest lengths the OCI image spec registers; other algorithms only need 32+ hex characters. */
const KNOWN_DIGEST_HEX = new Map([
  ["sha256", /^[a-f0-9]{64}$/],
  ["sha512", /^[a-f0-9]{128}$/],
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we reject.
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/;

/** Parses and normalises an image reference; throws {@link ImageRefError} with a reason. */
export function parseImageRef(input: string): ImageRef {
  const result = tryParseImageRef(input);
  if (!result.ok) throw new ImageRefError(typeof input === "string" ? input : String(input), result.reason);
  return result.value;
}

/** Like {@link parseImageRef}, but returns the reason instead of throwing. */
export function tryParseImageRef(input: unknown): ImageRefResult {
  if (typeof input !== "string") return fail("not a string");
  if (input.length === 0) return fail("empty");
  if (input.length > MAX_INPUT_LENGTH) return fail(`longer than ${MAX_INPUT_LENGTH} characters`);
  if (WHITESPACE_OR_CONTROL.test(input)) return fail("contains whitespace or control characters");
  if (input.startsWith("-")) return fail("starts with '-'");

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    const checked = checkDigest(rest.slice(at + 1));
    if (!checked.ok) return checked;
    digest = checked.digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) return fail(`malformed tag ${JSON.stringify(tag)}`);
  }

  if (rest.length === 0) return fail("missing repository name");
  if (rest.length > MAX_NAME_LENGTH) return fail(`repository name longer than ${MAX_NAME_LENGTH} characters`);

  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash !== -1) {
    const first = rest.slice(0, slash);
    if (isDomain(first)) {
      const checked = checkDomain(first);
      if (!checked.ok) return checked;
      registry = checked.domain;
      path = rest.slice(slash + 1);
    }
  }

  for (const component of path.split("/")) {
    if (component.length === 0) return fail("empty path component");
    if (component !== component.toLowerCase()) return fail("repository name must be lower-case");
    if (!PATH_COMPONENT.test(component)) return fail(`malformed path component ${JSON.stringify(component)}`);
  }
  if (registry === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;

  if (tag === undefined && digest === undefined) tag = "latest";
  const name = `${registry}/${path}`;
  const ref = digest !== undefined ? `${name}@${digest}` : `${name}:${tag}`;
  const value: ImageRef = { ref, registry, repository: path };
  if (tag !== undefined) value.tag = tag;
  if (digest !== undefined) value.digest = digest;
  return { ok: true, value };
}

/** True when the string is a canonical reference as {@link parseImageRef} produces it. */
export function isCanonicalImageRef(input: string): boolean {
  const result = tryParseImageRef(input);
  return result.ok && result.value.ref === input;
}

// distribution's splitDockerDomain: the first element is a registry when it looks like a host.
function isDomain(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase();
}

function checkDomain(domain: string): { ok: true; domain: string } | { ok: false; reason: string } {
  let host = domain;
  let port: string | undefined;
  const portColon = domain.lastIndexOf(":");
  if (portColon !== -1 && portColon > domain.lastIndexOf("]")) {
    port = domain.slice(portColon + 1);
    host = domain.slice(0, portColon);
    if (!PORT.test(port) || Number(port) > 65535)
      return fail(`malformed registry port ${JSON.stringify(port)}`);
  }
  if (!DOMAIN_NAME.test(host) && !IPV6_HOST.test(host))
    return fail(`malformed registry host ${JSON.stringify(host)}`);
  // Host names are case-insensitive: lower-case them so one registry has one spelling.
  let normalised = host.toLowerCase();
  if (normalised === LEGACY_DOCKER_HUB) normalised = DOCKER_HUB;
  return { ok: true, domain: port === undefined ? normalised : `${normalised}:${port}` };
}

function checkDigest(digest: string): { ok: true; digest: string } | { ok: false; reason: string } {
  const colon = digest.indexOf(":");
  if (colon === -1) return fail("malformed digest: expected <algorithm>:<hex>");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!DIGEST_ALGORITHM.test(algorithm))
    return fail(`malformed digest algorithm ${JSON.stringify(algorithm)}`);
  const known = KNOWN_DIGEST_HEX.get(algorithm);
  if (known ? !known.test(hex) : !DIGEST_HEX.test(hex)) {
    return fail(
      `malformed ${algorithm} digest: expected ${known ? "lower-case hex of the algorithm's length" : "32 or more hex characters"}`,
    );
  }
  return { ok: true, digest };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
