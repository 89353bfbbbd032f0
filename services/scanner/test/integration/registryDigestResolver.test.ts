// Tag → digest against the local registry emulator over its socket: the bearer challenge answered
// anonymously, ACR through the identity's exchange, and each refusal as its failure class.
import type { AccessToken } from "@azure/core-auth";
import { type RunningRegistryEmulator, startRegistryEmulator } from "@qcs/emulators";
import { parseImageRef } from "@qcs/shared";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AcrRegistryAuth } from "../../src/adapters/acr/acrRegistryAuth.ts";
import { RegistryDigestResolver } from "../../src/adapters/registry/registryDigestResolver.ts";
import { isScanFailure } from "../../src/core/scanFailure.ts";

const ENTRA_TOKEN = "entra-access-token-for-the-registry";
const signal = () => new AbortController().signal;

let registry: RunningRegistryEmulator;
const secrets: string[] = [];
const credential = {
  getToken: async (): Promise<AccessToken> => ({
    token: ENTRA_TOKEN,
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
};

function resolver(): RegistryDigestResolver {
  const acr = new AcrRegistryAuth({
    credential,
    registryEndpoint: () => registry.url,
    onSecret: (value) => secrets.push(value),
  });
  return new RegistryDigestResolver({
    acrRefreshToken: (host, abort) => acr.refreshToken(host, abort),
    baseUrl: registry.url,
    onSecret: (value) => secrets.push(value),
  });
}

/** The failure a resolution ends in (a ScanFailure's class and Retry-After, or a transient error's text). */
async function failureOf(ref: string) {
  try {
    await resolver().digestOf(parseImageRef(ref), signal());
  } catch (error) {
    if (isScanFailure(error))
      return { class: error.code, retryAfterMs: error.retryAfterMs, message: error.message };
    return { transient: (error as Error).message };
  }
  throw new Error(`${ref} resolved`);
}

beforeAll(async () => {
  registry = await startRegistryEmulator({
    images: [
      "nginx:1.27",
      "ghcr.io/contoso/app:1.0",
      "contosoprod.azurecr.io/checkout/api:2.4.1",
      "ghcr.io/contoso/vault:1.0-unauthorized",
    ],
  });
});
afterEach(() => registry.faults.clear());
afterAll(() => registry?.close());

describe("resolving a tag on a registry", () => {
  it("answers the anonymous bearer challenge and reads Docker-Content-Digest, for Docker Hub and OCI registries", async () => {
    const digests = resolver();
    const nginx = await digests.digestOf(parseImageRef("nginx:1.27"), signal());
    expect(nginx).toBe(registry.digestOf("docker.io/library/nginx:1.27"));
    expect(nginx).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await digests.digestOf(parseImageRef("ghcr.io/contoso/app:1.0"), signal())).toBe(
      registry.digestOf("ghcr.io/contoso/app:1.0"),
    );
  });

  it("follows a moved tag, and an unchanged tag costs one HEAD once it holds a token", async () => {
    const digests = resolver();
    const image = parseImageRef("ghcr.io/contoso/app:1.0");
    const before = await digests.digestOf(image, signal());
    const pushed = registry.push("ghcr.io/contoso/app:1.0");
    expect(pushed.digest).not.toBe(before);
    const counted = registry.requests.length;
    expect(await digests.digestOf(image, signal())).toBe(pushed.digest);
    expect(await digests.digestOf(image, signal())).toBe(pushed.digest);
    expect(registry.requests.slice(counted).map((r) => `${r.method} ${r.status}`)).toEqual([
      "HEAD 200",
      "HEAD 200",
    ]);
  });

  it("reads a private ACR repository with a token bought with the identity's ACR refresh token", async () => {
    const digests = resolver();
    const image = parseImageRef("contosoprod.azurecr.io/checkout/api:2.4.1");
    const counted = registry.requests.length;
    expect(await digests.digestOf(image, signal())).toBe(registry.digestOf(image.ref));
    expect(registry.requests.slice(counted).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "HEAD /v2/contosoprod.azurecr.io/checkout/api/manifests/2.4.1 401",
      "POST /oauth2/exchange 200",
      "POST /oauth2/token 200",
      "HEAD /v2/contosoprod.azurecr.io/checkout/api/manifests/2.4.1 200",
    ]);
    // Refresh and access tokens were handed to the redactor.
    expect(secrets.length).toBeGreaterThanOrEqual(2);
  });

  it("maps 404 to ImageNotFound, 401/403 to RegistryAuthFailed, 429 to RateLimited with Retry-After, 5xx to transient", async () => {
    expect(await failureOf("ghcr.io/contoso/app:9.9-missing")).toMatchObject({ class: "ImageNotFound" });
    expect(await failureOf("ghcr.io/contoso/unknown:1")).toMatchObject({ class: "ImageNotFound" });
    expect(await failureOf("ghcr.io/contoso/vault:1.0-unauthorized")).toMatchObject({
      class: "RegistryAuthFailed",
    });
    registry.faults.add({ path: "/v2/ghcr.io/contoso/app/*", status: 429, retryAfterSeconds: 42 });
    expect(await failureOf("ghcr.io/contoso/app:1.0")).toMatchObject({
      class: "RateLimited",
      retryAfterMs: 42_000,
    });
    registry.faults.clear();
    registry.faults.add({ path: "/v2/ghcr.io/contoso/app/*", status: 503 });
    expect(await failureOf("ghcr.io/contoso/app:1.0")).toEqual({
      transient: "ghcr.io/contoso/app:1.0: HEAD manifest answered HTTP 503",
    });
  });

  it("a refused token request is RegistryAuthFailed, and no token appears in the failure", async () => {
    registry.faults.add({ path: "/oauth2/token", status: 401 });
    const failure = await failureOf("contosoprod.azurecr.io/checkout/api:2.4.1");
    expect(failure).toMatchObject({ class: "RegistryAuthFailed" });
    for (const secret of [ENTRA_TOKEN, ...secrets]) expect(JSON.stringify(failure)).not.toContain(secret);
  });
});
