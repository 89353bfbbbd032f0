/**
 * The registry's bearer tokens, as a distribution token server and ACR issue them: anonymous
 * tokens (Docker Hub, ghcr) grant pull on public repositories only; ACR's exchange turns any Entra
 * token into a refresh token, which buys access tokens for any repository. Repositories of
 * `*.azurecr.io` are private, as ACR's are by default, so pulling them needs the exchange.
 * Tokens do not expire here.
 */
import { randomBytes } from "node:crypto";

/** `repository:<name>:<actions>` → the name, when the actions include pull. */
export function pullScope(scope: string): string | undefined {
  const match = /^repository:([^:]+):([a-z*,]+)$/.exec(scope);
  return match?.[2]?.split(",").some((action) => action === "pull" || action === "*") ? match[1] : undefined;
}

export function isPrivateRepository(repository: string): boolean {
  return (repository.split("/")[0] ?? "").endsWith(".azurecr.io");
}

const newToken = () => randomBytes(24).toString("base64url");

export class TokenIssuer {
  /** Access token → repositories it may pull. */
  readonly #access = new Map<string, ReadonlySet<string>>();
  readonly #refresh = new Set<string>();

  /** An anonymous token for the public repositories among `scopes`. */
  anonymous(scopes: readonly string[]): string {
    return this.#issue(scopes, (repository) => !isPrivateRepository(repository));
  }

  /** ACR's `/oauth2/exchange`: a refresh token for an Entra access token. */
  refreshToken(): string {
    const token = newToken();
    this.#refresh.add(token);
    return token;
  }

  /** ACR's refresh-token grant; undefined for a refresh token this registry did not issue. */
  fromRefreshToken(refreshToken: string, scopes: readonly string[]): string | undefined {
    return this.#refresh.has(refreshToken) ? this.#issue(scopes, () => true) : undefined;
  }

  isValid(token: string): boolean {
    return this.#access.has(token);
  }

  mayPull(token: string, repository: string): boolean {
    return this.#access.get(token)?.has(repository) ?? false;
  }

  #issue(scopes: readonly string[], allowed: (repository: string) => boolean): string {
    const token = newToken();
    const repositories = scopes.map(pullScope).filter((name): name is string => name !== undefined);
    this.#access.set(token, new Set(repositories.filter(allowed)));
    return token;
  }
}
