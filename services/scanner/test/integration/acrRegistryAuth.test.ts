// The ACR adapter against a local HTTP server that plays a registry's /oauth2/exchange endpoint.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { parseImageRef } from "@qcs/shared";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ACR_REFRESH_TOKEN_USER,
  ACR_SCOPE,
  AcrRegistryAuth,
} from "../../src/adapters/acr/acrRegistryAuth.ts";
import { isScanFailure } from "../../src/core/scanFailure.ts";

const ENTRA_TOKEN = "entra-access-token-for-acr";
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const jwt = (claims: object) =>
  ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "c2ln"].join(".");

interface Exchange {
  form: URLSearchParams;
  contentType: string | undefined;
}

let server: Server;
let endpoint: string;
let exchanges: Exchange[];
let answer: { status: number; body: string };

beforeAll(async () => {
  server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    if (request.method !== "POST" || request.url !== "/oauth2/exchange") {
      response.writeHead(404).end();
      return;
    }
    exchanges.push({ form: new URLSearchParams(body), contentType: request.headers["content-type"] });
    response.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  exchanges = [];
  answer = {
    status: 200,
    body: JSON.stringify({ refresh_token: jwt({ exp: Math.floor(Date.now() / 1000) + 10_800 }) }),
  };
});

/** A fixed Entra token: the identity platform is not reachable here, the registry exchange is under test. */
class StaticCredential implements TokenCredential {
  scopes: Array<string | string[]> = [];
  failWith: Error | undefined;
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push(scopes);
    if (this.failWith) throw this.failWith;
    return { token: ENTRA_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

function auth(credential: TokenCredential, secrets: string[] = []) {
  return new AcrRegistryAuth({
    credential,
    tenantId: TENANT,
    registryEndpoint: () => endpoint,
    onSecret: (value) => secrets.push(value),
  });
}

const acrImage = parseImageRef("contosoprod.azurecr.io/checkout/api:2.4.1");
const signal = () => new AbortController().signal;

describe("ACR registry authentication", () => {
  it("exchanges the identity's Entra token for an ACR refresh token used with the null-GUID user", async () => {
    const credential = new StaticCredential();
    const secrets: string[] = [];
    const credentials = await auth(credential, secrets).credentialsFor(acrImage, signal());

    expect(credential.scopes).toEqual([ACR_SCOPE]);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]?.contentType).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(exchanges[0]?.form ?? [])).toEqual({
      grant_type: "access_token",
      service: "contosoprod.azurecr.io",
      tenant: TENANT,
      access_token: ENTRA_TOKEN,
    });
    const refresh = JSON.parse(answer.body).refresh_token;
    expect(credentials).toEqual({ username: ACR_REFRESH_TOKEN_USER, password: refresh });
    expect(secrets).toEqual([refresh]);
  });

  it("reuses a refresh token until shortly before it expires", async () => {
    const adapter = auth(new StaticCredential());
    await adapter.credentialsFor(acrImage, signal());
    await adapter.credentialsFor(parseImageRef("contosoprod.azurecr.io/other:1"), signal());
    expect(exchanges).toHaveLength(1);

    answer.body = JSON.stringify({ refresh_token: jwt({ exp: Math.floor(Date.now() / 1000) + 60 }) });
    const shortLived = auth(new StaticCredential());
    await shortLived.credentialsFor(acrImage, signal());
    await shortLived.credentialsFor(acrImage, signal());
    expect(exchanges).toHaveLength(3);
  });

  it("reads public registries anonymously, without any token", async () => {
    const credential = new StaticCredential();
    expect(await auth(credential).credentialsFor(parseImageRef("nginx"), signal())).toBeUndefined();
    expect(
      await auth(credential).credentialsFor(parseImageRef("mcr.microsoft.com/dotnet/runtime:8.0"), signal()),
    ).toBeUndefined();
    expect(credential.scopes).toEqual([]);
    expect(exchanges).toEqual([]);
  });

  it("fails with RegistryAuthFailed, naming the registry but not the token, when the registry refuses", async () => {
    answer = {
      status: 401,
      body: JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }),
    };
    const error = await auth(new StaticCredential())
      .credentialsFor(acrImage, signal())
      .catch((caught) => caught);
    expect(isScanFailure(error)).toBe(true);
    expect(error.code).toBe("RegistryAuthFailed");
    expect(error.message).toBe(
      "contosoprod.azurecr.io refused the scanner's identity (HTTP 401 from /oauth2/exchange: authentication required)",
    );
    expect(error.message).not.toContain(ENTRA_TOKEN);
  });

  it("redacts the registry's error message before shortening it, so a token at the cut leaves no fragment", async () => {
    const jwtInMessage =
      "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // The detail keeps 200 characters; the token starts at 190.
    answer = {
      status: 401,
      body: JSON.stringify({ errors: [{ message: `${"m".repeat(189)} ${jwtInMessage}` }] }),
    };
    const error = await auth(new StaticCredential())
      .credentialsFor(acrImage, signal())
      .catch((caught) => caught);
    expect(error.code).toBe("RegistryAuthFailed");
    expect(error.message).toContain("[REDACTED]");
    expect(error.message).not.toContain(jwtInMessage.slice(0, 8));
  });

  it("treats a registry outage as transient, not as a refusal", async () => {
    answer = { status: 503, body: "upstream unavailable" };
    const error = await auth(new StaticCredential())
      .credentialsFor(acrImage, signal())
      .catch((caught) => caught);
    expect(isScanFailure(error)).toBe(false);
    expect(error.message).toBe("contosoprod.azurecr.io /oauth2/exchange answered HTTP 503");
  });

  it("rejects an answer without a refresh token as transient", async () => {
    answer = { status: 200, body: "{}" };
    const error = await auth(new StaticCredential())
      .credentialsFor(acrImage, signal())
      .catch((caught) => caught);
    expect(isScanFailure(error)).toBe(false);
    expect(error.message).toMatch(/no refresh_token/);
  });

  it("fails with RegistryAuthFailed when no managed identity is available at all", async () => {
    const credential = new StaticCredential();
    credential.failWith = Object.assign(new Error("ManagedIdentityCredential: no endpoint\nmore detail"), {
      name: "CredentialUnavailableError",
    });
    const error = await auth(credential)
      .credentialsFor(acrImage, signal())
      .catch((caught) => caught);
    expect(error.code).toBe("RegistryAuthFailed");
    expect(error.message).toBe(
      "no Entra identity to authenticate to contosoprod.azurecr.io: ManagedIdentityCredential: no endpoint",
    );
  });
});

describe("a redirect from the token exchange", () => {
  it("is refused: the origin it names never receives the Entra token, and the failure is RegistryAuthFailed", async () => {
    const elsewhere: string[] = [];
    const attacker = createServer(async (request, response) => {
      let body = "";
      for await (const chunk of request) body += chunk;
      elsewhere.push(`${request.method} ${request.url} ${body}`);
      response.writeHead(200, { "content-type": "application/json" }).end('{"refresh_token":"stolen"}');
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    const attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/oauth2/exchange`;
    const redirecting = createServer((_request, response) =>
      response.writeHead(307, { location: attackerUrl }).end(),
    );
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    try {
      const adapter = new AcrRegistryAuth({
        credential: new StaticCredential(),
        registryEndpoint: () => `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`,
      });
      const error = await adapter.credentialsFor(acrImage, signal()).catch((caught) => caught);

      expect(elsewhere).toEqual([]);
      expect(isScanFailure(error)).toBe(true);
      expect(error.code).toBe("RegistryAuthFailed");
      expect(error.message).toMatch(/contosoprod\.azurecr\.io answered \/oauth2\/exchange with a redirect/);
    } finally {
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
      await new Promise<void>((resolve) => attacker.close(() => resolve()));
    }
  });
});
