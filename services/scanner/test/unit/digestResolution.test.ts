import { describe, expect, it } from "vitest";
import {
  interpretManifestAnswer,
  MANIFEST_ACCEPT,
  manifestLocation,
  parseBearerChallenge,
  parseRetryAfter,
} from "../../src/core/digestResolution.ts";
import { decideOnFailure } from "../../src/core/failurePolicy.ts";

const NOW = new Date("2025-03-14T12:00:00.000Z");
const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("where a tag's manifest is", () => {
  it("is the registry's own API, Docker Hub's at registry-1.docker.io", () => {
    expect(manifestLocation({ registry: "docker.io", repository: "library/nginx" }, "1.27")).toEqual({
      origin: "https://registry-1.docker.io",
      repository: "library/nginx",
      url: "https://registry-1.docker.io/v2/library/nginx/manifests/1.27",
    });
    expect(manifestLocation({ registry: "contoso.azurecr.io", repository: "team/app" }, "1").url).toBe(
      "https://contoso.azurecr.io/v2/team/app/manifests/1",
    );
  });

  it("is one API for every host with a base URL, the repository named <host>/<path> as the local registry does", () => {
    expect(
      manifestLocation({ registry: "ghcr.io", repository: "contoso/app" }, "2.0", "http://127.0.0.1:5999"),
    ).toEqual({
      origin: "http://127.0.0.1:5999",
      repository: "ghcr.io/contoso/app",
      url: "http://127.0.0.1:5999/v2/ghcr.io/contoso/app/manifests/2.0",
    });
  });

  it("accepts OCI indexes and manifests and Docker manifest lists and v2 manifests", () => {
    expect(MANIFEST_ACCEPT.split(", ")).toEqual([
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.oci.image.manifest.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json",
    ]);
  });
});

describe("a bearer challenge", () => {
  it("gives realm, service and scope, quoted or not, in any order and case", () => {
    expect(
      parseBearerChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      ),
    ).toEqual({
      realm: "https://auth.docker.io/token",
      service: "registry.docker.io",
      scope: "repository:library/nginx:pull",
    });
    expect(parseBearerChallenge('bearer service="ghcr.io", realm="https://ghcr.io/token"')).toEqual({
      realm: "https://ghcr.io/token",
      service: "ghcr.io",
    });
  });

  it("is not one without an http(s) realm, or for another scheme", () => {
    expect(parseBearerChallenge('Basic realm="Registry"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer service="x"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer realm="file:///etc/passwd"')).toBeUndefined();
    expect(parseBearerChallenge(null)).toBeUndefined();
  });
});

describe("what a registry's answer to the HEAD means", () => {
  const answer = (status: number, digest: string | null = null, retryAfter: string | null = null) =>
    interpretManifestAnswer({ status, digest, retryAfter }, "ghcr.io/contoso/app:1", NOW);

  it("a digest from Docker-Content-Digest; none when it is absent or not a sha256 digest", () => {
    expect(answer(200, DIGEST)).toEqual({ kind: "digest", digest: DIGEST });
    expect(answer(200)).toEqual({ kind: "noDigest" });
    expect(answer(200, "sha256:short")).toEqual({ kind: "noDigest" });
  });

  it("404 ImageNotFound, 401/403 RegistryAuthFailed, 429 RateLimited with Retry-After, 5xx transient", () => {
    expect(answer(404)).toMatchObject({ kind: "failed", failure: { failureClass: "ImageNotFound" } });
    expect(answer(401)).toMatchObject({ kind: "failed", failure: { failureClass: "RegistryAuthFailed" } });
    expect(answer(403)).toMatchObject({ kind: "failed", failure: { failureClass: "RegistryAuthFailed" } });
    expect(answer(429, null, "120")).toMatchObject({
      kind: "failed",
      failure: { failureClass: "RateLimited", retryAfterMs: 120_000 },
    });
    expect(answer(429)).toEqual({
      kind: "failed",
      failure: {
        failureClass: "RateLimited",
        message: "ghcr.io/contoso/app:1: HEAD manifest answered HTTP 429",
      },
    });
    expect(answer(503)).toEqual({
      kind: "transient",
      message: "ghcr.io/contoso/app:1: HEAD manifest answered HTTP 503",
    });
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("7", NOW)).toBe(7000);
    expect(parseRetryAfter("Fri, 14 Mar 2025 12:01:00 GMT", NOW)).toBe(60_000);
    expect(parseRetryAfter("Fri, 14 Mar 2025 11:00:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
  });

  it("a retry waits for Retry-After when that is longer than the policy's delay", () => {
    const failure = { failureClass: "RateLimited" as const, message: "429" };
    expect(decideOnFailure(failure, 1, 1000)).toEqual({ kind: "retry", delayMs: 1000 });
    expect(decideOnFailure({ ...failure, retryAfterMs: 90_000 }, 1, 1000)).toEqual({
      kind: "retry",
      delayMs: 90_000,
    });
  });
});
