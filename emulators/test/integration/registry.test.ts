/** The local OCI registry over its socket, as a distribution client (the scanner's HEAD) uses it. */
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  projectArmInventoryPath,
  type RunningRegistryEmulator,
  startRegistryEmulator,
} from "../../src/index.ts";

const ALL_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const sha256 = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

describe("the local registry", () => {
  let registry: RunningRegistryEmulator;
  beforeAll(async () => {
    registry = await startRegistryEmulator({
      inventory: projectArmInventoryPath,
      images: ["ghcr.io/contoso/catalog:2.0.0-notfound", "ghcr.io/contoso/vault:1.0-unauthorized"],
    });
  });
  afterEach(() => registry.faults.clear());
  afterAll(() => registry?.close());

  /** Follows the bearer challenge anonymously, as docker and qscanner do for public registries. */
  async function anonymousToken(repository: string): Promise<string> {
    const challenged = await fetch(`${registry.url}/v2/${repository}/manifests/any`, { method: "HEAD" });
    const header = challenged.headers.get("www-authenticate") ?? "";
    const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    const url = new URL(params.realm ?? "");
    url.searchParams.set("service", params.service ?? "");
    url.searchParams.set("scope", params.scope ?? "");
    return ((await (await fetch(url)).json()) as { token: string }).token;
  }

  const manifest = (
    repository: string,
    reference: string,
    token: string,
    accept = ALL_TYPES,
    method = "GET",
  ) =>
    fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept },
    });

  it("challenges anonymous clients with the realm and service of its token endpoint", async () => {
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer realm="${registry.url}/oauth2/token",service="qcs-local-registry"`,
    );
    expect(response.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(await response.json()).toEqual({
      errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }],
    });
    const token = await anonymousToken("docker.io/fluent/fluent-bit");
    const base = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
    expect(base.status).toBe(200);
    expect((await fetch(`${registry.url}/v2/`, { headers: { authorization: "Bearer forged" } })).status).toBe(
      401,
    );
    const scoped = await fetch(`${registry.url}/v2/docker.io/fluent/fluent-bit/manifests/3.1`, {
      method: "HEAD",
    });
    expect(scoped.headers.get("www-authenticate")).toContain(
      ',scope="repository:docker.io/fluent/fluent-bit:pull"',
    );
  });

  it("resolves a tag with HEAD to the digest of the manifest GET serves, for any registry host", async () => {
    const token = await anonymousToken("docker.io/fluent/fluent-bit");
    const head = await manifest("docker.io/fluent/fluent-bit", "3.1", token, ALL_TYPES, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(
      "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    const digest = head.headers.get("docker-content-digest");
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const get = await manifest("docker.io/fluent/fluent-bit", "3.1", token);
    const body = await get.text();
    expect(sha256(body)).toBe(digest);
    expect(registry.digestOf("fluent/fluent-bit:3.1")).toBe(digest);
    const byDigest = await manifest("docker.io/fluent/fluent-bit", digest ?? "", token);
    expect(await byDigest.text()).toBe(body);

    const ghcr = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib";
    const oci = await manifest(ghcr, "0.104.0", await anonymousToken(ghcr), ALL_TYPES, "HEAD");
    expect(oci.headers.get("content-type")).toBe("application/vnd.oci.image.index.v1+json");
  });

  it("answers a client that accepts only image manifests with the platform's manifest, else manifest unknown", async () => {
    const repository = "mcr.microsoft.com/azure-cli";
    const token = await anonymousToken(repository);
    const index = (await (await manifest(repository, "2.63.0", token)).json()) as {
      manifests: { digest: string; platform: unknown }[];
    };
    expect(index.manifests).toEqual([
      expect.objectContaining({ platform: { architecture: "amd64", os: "linux" } }),
    ]);
    const image = await manifest(repository, "2.63.0", token, "application/vnd.oci.image.manifest.v1+json");
    expect(image.headers.get("content-type")).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(image.headers.get("docker-content-digest")).toBe(index.manifests[0]?.digest);
    expect(sha256(await image.text())).toBe(index.manifests[0]?.digest);

    const docker = await manifest(
      repository,
      "2.63.0",
      token,
      "application/vnd.docker.distribution.manifest.v2+json",
    );
    expect(docker.status).toBe(404);
    expect(await docker.json()).toEqual({
      errors: [
        {
          code: "MANIFEST_UNKNOWN",
          message:
            "OCI manifest found, but accept header does not support application/vnd.oci.image.index.v1+json",
          detail: null,
        },
      ],
    });
  });

  it("answers 404 for unknown tags (the simulator's notfound word) and repositories, 403 for unauthorized", async () => {
    const token = await anonymousToken("ghcr.io/contoso/catalog");
    const gone = await manifest("ghcr.io/contoso/catalog", "2.0.0-notfound", token);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({
      errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown", detail: null }],
    });
    expect(
      (await manifest("ghcr.io/contoso/catalog", "2.0.0-notfound", token, ALL_TYPES, "HEAD")).status,
    ).toBe(404);
    const nobody = await manifest("ghcr.io/nobody/app", "1.0", await anonymousToken("ghcr.io/nobody/app"));
    expect(await nobody.json()).toMatchObject({ errors: [{ code: "NAME_UNKNOWN" }] });
    const denied = await manifest(
      "ghcr.io/contoso/vault",
      "1.0-unauthorized",
      await anonymousToken("ghcr.io/contoso/vault"),
    );
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ errors: [{ code: "DENIED" }] });
  });

  it("keeps *.azurecr.io private: anonymous tokens do not pull, ACR's token exchange does", async () => {
    const repository = "contosoprod.azurecr.io/payments/invoice-worker";
    const anonymous = await manifest(
      repository,
      "2.4.1",
      await anonymousToken(repository),
      ALL_TYPES,
      "HEAD",
    );
    expect(anonymous.status).toBe(401);

    const form = (fields: Record<string, string>) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    const exchange = await fetch(
      `${registry.url}/oauth2/exchange`,
      form({ grant_type: "access_token", service: "contosoprod.azurecr.io", access_token: "entra-token" }),
    );
    const { refresh_token } = (await exchange.json()) as { refresh_token: string };
    expect(refresh_token).toEqual(expect.any(String));
    const granted = await fetch(
      `${registry.url}/oauth2/token`,
      form({
        grant_type: "refresh_token",
        service: "contosoprod.azurecr.io",
        scope: `repository:${repository}:pull`,
        refresh_token,
      }),
    );
    const { access_token } = (await granted.json()) as { access_token: string };
    const head = await manifest(repository, "2.4.1", access_token, ALL_TYPES, "HEAD");
    expect(head.status).toBe(200);

    const forged = await fetch(
      `${registry.url}/oauth2/token`,
      form({
        grant_type: "refresh_token",
        service: "x",
        scope: `repository:${repository}:pull`,
        refresh_token: "forged",
      }),
    );
    expect(forged.status).toBe(401);
    const noToken = await fetch(
      `${registry.url}/oauth2/exchange`,
      form({ grant_type: "access_token", service: "x" }),
    );
    expect(noToken.status).toBe(400);
  });

  it("moves a tag to a new digest by an admin call, the old manifest staying pullable by digest", async () => {
    const repository = "mcr.microsoft.com/dotnet/runtime";
    const token = await anonymousToken(repository);
    const before = (await manifest(repository, "8.0", token, ALL_TYPES, "HEAD")).headers.get(
      "docker-content-digest",
    );
    const moved = await fetch(`${registry.url}/_admin/tags`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ref: "mcr.microsoft.com/dotnet/runtime:8.0" }),
    });
    const pushed = (await moved.json()) as { ref: string; generation: number; digest: string };
    expect(pushed).toMatchObject({ ref: `${repository}:8.0`, generation: 2 });
    expect(pushed.digest).not.toBe(before);
    const after = await manifest(repository, "8.0", token, ALL_TYPES, "HEAD");
    expect(after.headers.get("docker-content-digest")).toBe(pushed.digest);
    expect((await manifest(repository, before ?? "", token, ALL_TYPES, "HEAD")).status).toBe(200);

    expect(registry.push("mcr.microsoft.com/dotnet/runtime:8.0")).toMatchObject({ generation: 3 });
    expect(registry.push("ghcr.io/contoso/new-app:1.0")).toMatchObject({ generation: 1 });
    const refused = await fetch(`${registry.url}/_admin/tags`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ref: "ghcr.io/Contoso/Bad:1" }),
    });
    expect(refused.status).toBe(400);
  });

  it("derives digests from the reference and generation alone: another registry agrees", async () => {
    const other = await startRegistryEmulator({ images: ["fluent/fluent-bit:3.1"] });
    try {
      expect(other.digestOf("docker.io/fluent/fluent-bit:3.1")).toBe(
        registry.digestOf("fluent/fluent-bit:3.1"),
      );
    } finally {
      await other.close();
    }
  });

  it("injects faults added over HTTP until they are cleared", async () => {
    const repository = "docker.io/fluent/fluent-bit";
    const token = await anonymousToken(repository);
    const added = await fetch(registry.faultsUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ path: `/v2/${repository}/manifests/*`, status: 429, retryAfterSeconds: 3 }]),
    });
    expect(await added.json()).toEqual({
      rules: [{ path: `/v2/${repository}/manifests/*`, status: 429, retryAfterSeconds: 3, remaining: null }],
    });
    for (const attempt of [1, 2]) {
      const throttled = await manifest(repository, "3.1", token, ALL_TYPES, attempt === 1 ? "HEAD" : "GET");
      expect(throttled.status).toBe(429);
      expect(throttled.headers.get("retry-after")).toBe("3");
    }
    expect(await (await manifest(repository, "3.1", token)).json()).toMatchObject({
      errors: [{ code: "TOOMANYREQUESTS" }],
    });
    expect((await fetch(registry.faultsUrl, { method: "DELETE" })).status).toBe(204);
    expect((await manifest(repository, "3.1", token, ALL_TYPES, "HEAD")).status).toBe(200);
    expect(await (await fetch(registry.faultsUrl)).json()).toEqual({ rules: [] });

    const invalid = await fetch(registry.faultsUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ path: "/v2/", status: 429, retryAfter: 3 }]),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      error: "invalid fault rules",
      problems: [`[0]: Unrecognized key: "retryAfter"`],
    });
  });
});
