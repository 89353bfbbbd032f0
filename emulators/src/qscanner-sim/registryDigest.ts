/**
 * What the simulator learns from the local registry at REGISTRY_API_BASE_URL, asking as the scanner
 * does (manifest requests answering the anonymous bearer challenge): the digest a tag resolves to,
 * so its report names the digest the registry serves; and the tag a digest was pushed as (the
 * index's `org.opencontainers.image.ref.name`), so behaviour words survive the scanner's `repo@digest`.
 * Without that setting, or for what the registry does not serve anonymously, it learns nothing.
 */
import { registryImageOf } from "../registry/imageRef.ts";
import { MEDIA_TYPES, TAG_ANNOTATION } from "../registry/manifests.ts";

const ACCEPT = Object.values(MEDIA_TYPES).join(", ");

export interface RegistryFacts {
  /** The digest of a tag-only reference. */
  digest?: string;
  /** The tag of a digest reference's index. */
  tag?: string;
}

export async function registryFacts(ref: string, baseUrl: string | undefined): Promise<RegistryFacts> {
  const image = registryImageOf(ref);
  const reference = image?.digest ?? image?.tag;
  if (baseUrl === undefined || image === undefined || reference === undefined) return {};
  const url = `${baseUrl.replace(/\/+$/, "")}/v2/${image.repository}/manifests/${reference}`;
  const get = (token?: string) =>
    fetch(url, {
      headers: { accept: ACCEPT, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
  let response = await get();
  const challenge = response.headers.get("www-authenticate") ?? "";
  if (response.status === 401 && /^Bearer /i.test(challenge)) {
    await response.body?.cancel();
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
    const tokenUrl = new URL(params.realm ?? "");
    tokenUrl.searchParams.set("service", params.service ?? "");
    tokenUrl.searchParams.set("scope", params.scope ?? `repository:${image.repository}:pull`);
    const body = (await (await fetch(tokenUrl, { signal: AbortSignal.timeout(10_000) })).json()) as {
      token?: string;
    };
    response = await get(body.token);
  }
  if (!response.ok) {
    await response.body?.cancel();
    return {};
  }
  if (image.digest !== undefined) {
    const manifest = (await response.json()) as { annotations?: Record<string, unknown> };
    const tag = manifest.annotations?.[TAG_ANNOTATION];
    return typeof tag === "string" ? { tag } : {};
  }
  await response.body?.cancel();
  const digest = response.headers.get("docker-content-digest");
  return digest !== null && /^sha256:[a-f0-9]{64}$/.test(digest) ? { digest } : {};
}
