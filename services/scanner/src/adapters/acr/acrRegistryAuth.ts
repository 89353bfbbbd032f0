/**
 * Registry credentials for Azure Container Registry with the scanner's managed identity: an Entra
 * token for the ACR audience is exchanged at `https://<registry>/oauth2/exchange` for an ACR
 * refresh token, which qscanner uses as the password of the all-zero user (the convention of
 * `docker login` with ACR tokens). Other registries are read anonymously.
 */
import type { TokenCredential } from "@azure/core-auth";
import { type ImageRef, redactSecrets } from "@qcs/shared";
import type { RegistryAuthenticator, RegistryCredentials } from "../../core/ports.ts";
import { registryAuthKind } from "../../core/registry.ts";
import { ScanFailure } from "../../core/scanFailure.ts";

/** Entra audience of Azure Container Registry. */
export const ACR_SCOPE = "https://containerregistry.azure.net/.default";
/** "The null GUID tells the container registry that this is an ACR refresh token." */
export const ACR_REFRESH_TOKEN_USER = "00000000-0000-0000-0000-000000000000";

export interface AcrRegistryAuthOptions {
  credential: TokenCredential;
  /** Sent as `tenant` in the exchange when set. */
  tenantId?: string | undefined;
  /** Base URL of a registry. Default: `https://<registry>`. */
  registryEndpoint?: (registry: string) => string;
  /** Called with every refresh token obtained, so the redactor can remove it from any text. */
  onSecret?: (value: string) => void;
  /** Default: 30 s. */
  timeoutMs?: number;
  /** Reuse a refresh token until this long before it expires. Default: 5 min. */
  refreshMarginMs?: number;
  /** Default: `Date.now`. */
  now?: () => number;
}

/** ACR refresh tokens live three hours; assume one when the token does not say. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

export class AcrRegistryAuth implements RegistryAuthenticator {
  readonly #options: AcrRegistryAuthOptions;
  readonly #cache = new Map<string, { password: string; expiresAt: number }>();

  constructor(options: AcrRegistryAuthOptions) {
    this.#options = options;
  }

  async credentialsFor(image: ImageRef, signal: AbortSignal): Promise<RegistryCredentials | undefined> {
    if (registryAuthKind(image.registry) !== "acr") return undefined;
    return { username: ACR_REFRESH_TOKEN_USER, password: await this.refreshToken(image.registry, signal) };
  }

  /** An ACR refresh token for `registry` (reused until shortly before it expires). */
  async refreshToken(registry: string, signal: AbortSignal): Promise<string> {
    const now = this.#options.now ?? Date.now;
    const cached = this.#cache.get(registry);
    if (cached && cached.expiresAt - (this.#options.refreshMarginMs ?? 300_000) > now()) {
      return cached.password;
    }
    const refreshToken = await this.#exchange(registry, await this.#entraToken(registry, signal), signal);
    this.#options.onSecret?.(refreshToken);
    this.#cache.set(registry, {
      password: refreshToken,
      expiresAt: expiryOf(refreshToken) ?? now() + DEFAULT_LIFETIME_MS,
    });
    return refreshToken;
  }

  async #entraToken(registry: string, signal: AbortSignal): Promise<string> {
    try {
      const token = await this.#options.credential.getToken(ACR_SCOPE, { abortSignal: signal });
      if (!token) throw new Error("the credential returned no token");
      return token.token;
    } catch (error) {
      // No identity configured at all is a deployment problem; anything else may pass.
      if (error instanceof Error && error.name === "CredentialUnavailableError") {
        throw new ScanFailure(
          "RegistryAuthFailed",
          `no Entra identity to authenticate to ${registry}: ${error.message.split("\n")[0]}`,
        );
      }
      throw error;
    }
  }

  async #exchange(registry: string, entraToken: string, signal: AbortSignal): Promise<string> {
    const endpoint = this.#options.registryEndpoint?.(registry) ?? `https://${registry}`;
    const form = new URLSearchParams({
      grant_type: "access_token",
      service: registry,
      access_token: entraToken,
    });
    if (this.#options.tenantId) form.set("tenant", this.#options.tenantId);
    let response: Response;
    try {
      response = await fetch(`${endpoint}/oauth2/exchange`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form,
        // A redirect would re-send the Entra token to whatever origin it names.
        redirect: "error",
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs ?? 30_000)]),
      });
    } catch (error) {
      if (isRedirectRefusal(error)) {
        throw new ScanFailure(
          "RegistryAuthFailed",
          `${registry} answered /oauth2/exchange with a redirect; the scanner does not follow redirects with its token (is ${registry} really an Azure Container Registry?)`,
        );
      }
      throw error;
    }
    const body = await response.text();
    if (response.status === 401 || response.status === 403) {
      throw new ScanFailure(
        "RegistryAuthFailed",
        `${registry} refused the scanner's identity (HTTP ${response.status} from /oauth2/exchange${errorDetail(body)})`,
      );
    }
    if (!response.ok) {
      throw new Error(`${registry} /oauth2/exchange answered HTTP ${response.status}${errorDetail(body)}`);
    }
    let refreshToken: unknown;
    try {
      refreshToken = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
    } catch {
      refreshToken = undefined;
    }
    if (typeof refreshToken !== "string" || refreshToken.length === 0) {
      throw new Error(`${registry} /oauth2/exchange returned no refresh_token`);
    }
    return refreshToken;
  }
}

/** Hands qscanner nothing: it authenticates by itself (REGISTRY_AUTH=qscanner). */
export const selfAuthenticatingRegistries: RegistryAuthenticator = {
  credentialsFor: async () => undefined,
};

/** undici's rejection of a redirect under `redirect: "error"`: a TypeError caused by "unexpected redirect". */
function isRedirectRefusal(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.cause instanceof Error &&
    error.cause.message === "unexpected redirect"
  );
}

/** The `errors[].message` / `error_description` of an ACR error body, short; never the body itself. */
function errorDetail(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ message?: unknown }>; error_description?: unknown };
    const message = parsed.errors?.[0]?.message ?? parsed.error_description;
    // Redacted before it is shortened: a token cut at the edge would no longer be recognised.
    return typeof message === "string" ? `: ${redactSecrets(message).slice(0, 200)}` : "";
  } catch {
    return "";
  }
}

/** `exp` of a JWT in milliseconds, when the token is one. */
function expiryOf(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
