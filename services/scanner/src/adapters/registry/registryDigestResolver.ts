/**
 * Tag → digest over the OCI distribution API: `HEAD /v2/<repository>/manifests/<tag>`, answering a
 * bearer challenge anonymously (public registries) or, for ACR, with an access token bought with the
 * managed identity's ACR refresh token (AcrRegistryAuth's exchange). A HEAD does not count against
 * Docker Hub's pull limit. Access tokens are kept per repository until shortly before they expire,
 * so an unchanged tag costs one HEAD.
 */
import type { ImageRef } from "@qcs/shared";
import {
  interpretManifestAnswer,
  MANIFEST_ACCEPT,
  type ManifestLocation,
  manifestLocation,
  parseBearerChallenge,
  pullScope,
  registryRefusal,
} from "../../core/digestResolution.ts";
import type { DigestResolver } from "../../core/ports.ts";
import { registryAuthKind } from "../../core/registry.ts";
import { ScanFailure } from "../../core/scanFailure.ts";

export interface RegistryDigestResolverOptions {
  /** ACR refresh tokens of the managed identity (`AcrRegistryAuth.refreshToken`). */
  acrRefreshToken: (registry: string, signal: AbortSignal) => Promise<string>;
  /** REGISTRY_API_BASE_URL: one API for every registry host (local stack, tests). */
  baseUrl?: string | undefined;
  /** Called with every access token obtained, so the redactor can remove it from any text. */
  onSecret?: (value: string) => void;
  /** Per HTTP call. Default: 30 s. */
  timeoutMs?: number;
  /** Default: `Date.now`. */
  now?: () => number;
}

/** Token lifetime when the token endpoint does not say (distribution's default is 60 s). */
const DEFAULT_TOKEN_SECONDS = 60;

export class RegistryDigestResolver implements DigestResolver {
  readonly #options: RegistryDigestResolverOptions;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(options: RegistryDigestResolverOptions) {
    this.#options = options;
  }

  async digestOf(image: ImageRef, signal: AbortSignal): Promise<string | undefined> {
    if (image.tag === undefined) return undefined;
    const location = manifestLocation(image, image.tag, this.#options.baseUrl);
    const key = `${location.origin}/${location.repository}`;
    const now = this.#options.now ?? Date.now;
    const cached = this.#tokens.get(key);
    let response = await this.#head(
      location,
      cached && cached.expiresAt > now() ? cached.token : undefined,
      signal,
    );
    if (response.status === 401) {
      const challenge = parseBearerChallenge(response.headers.get("www-authenticate"));
      if (challenge !== undefined) {
        const token = await this.#token(image, location, challenge, signal);
        this.#tokens.set(key, token);
        response = await this.#head(location, token.token, signal);
      }
    }
    const answer = interpretManifestAnswer(
      {
        status: response.status,
        digest: response.headers.get("docker-content-digest"),
        retryAfter: response.headers.get("retry-after"),
      },
      `${image.ref}`,
      new Date(now()),
    );
    if (answer.kind === "digest") return answer.digest;
    if (answer.kind === "noDigest") return undefined;
    if (answer.kind === "failed") {
      throw new ScanFailure(answer.failure.failureClass, answer.failure.message, answer.failure.retryAfterMs);
    }
    throw new Error(answer.message);
  }

  async #head(location: ManifestLocation, token: string | undefined, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: MANIFEST_ACCEPT };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    // A redirect would carry the token elsewhere.
    return await fetch(location.url, {
      method: "HEAD",
      headers,
      redirect: "error",
      signal: this.#signal(signal),
    });
  }

  /**
   * A pull token for the challenged repository. ACR: the refresh token is sent to the registry's
   * own `/oauth2/token`, never to a realm the answer names; others: the realm, anonymously.
   */
  async #token(
    image: ImageRef,
    location: ManifestLocation,
    challenge: { realm: string; service?: string; scope?: string },
    signal: AbortSignal,
  ): Promise<{ token: string; expiresAt: number }> {
    const service = challenge.service ?? image.registry;
    const scope = challenge.scope ?? pullScope(location.repository);
    let response: Response;
    if (registryAuthKind(image.registry) === "acr") {
      const refreshToken = await this.#options.acrRefreshToken(image.registry, signal);
      response = await fetch(`${location.origin}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          service,
          scope,
          refresh_token: refreshToken,
        }),
        redirect: "error",
        signal: this.#signal(signal),
      });
    } else {
      const url = new URL(challenge.realm);
      url.searchParams.set("service", service);
      url.searchParams.set("scope", scope);
      response = await fetch(url, { headers: { accept: "application/json" }, signal: this.#signal(signal) });
    }
    const what = `${image.ref}: the token endpoint answered HTTP ${response.status}`;
    if (!response.ok) {
      await response.body?.cancel();
      // A token endpoint's 404 says nothing about the image.
      const refusal = registryRefusal(
        response.status === 404 ? 502 : response.status,
        response.headers.get("retry-after"),
        what,
        new Date((this.#options.now ?? Date.now)()),
      );
      if (refusal.kind === "failed") {
        throw new ScanFailure(
          refusal.failure.failureClass,
          refusal.failure.message,
          refusal.failure.retryAfterMs,
        );
      }
      throw new Error(refusal.message);
    }
    const body = (await response.json().catch(() => ({}))) as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    };
    const token = typeof body.token === "string" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw new Error(`${image.ref}: the token endpoint returned no token`);
    }
    this.#options.onSecret?.(token);
    const seconds = typeof body.expires_in === "number" ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    // Renewed 10 s early: a token must not expire between the check and the HEAD.
    return { token, expiresAt: (this.#options.now ?? Date.now)() + Math.max(0, seconds - 10) * 1000 };
  }

  #signal(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeoutMs ?? 30_000)]);
  }
}
