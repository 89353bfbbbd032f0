/**
 * Where an image lives on the local registry. The registry serves the images of every registry
 * host from one base URL, so a repository's name there is the image's registry host followed by
 * its path, e.g. `nginx:1.27` → `docker.io/library/nginx`, `ghcr.io/contoso/app:1` →
 * `ghcr.io/contoso/app`: valid OCI repository names, so any distribution client can use them
 * unchanged against the base URL. References are normalised as distribution (and @qcs/shared's
 * imageRef.ts) does: Docker Hub's default host and `library/`, lower-case host names.
 */

export interface RegistryImage {
  /** `<registry host>/<path>`: the repository name on the local registry. */
  repository: string;
  /** The image's registry host (`docker.io`, `contosoprod.azurecr.io`). */
  host: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The local registry's repository and reference for an image reference; undefined for what it
 * cannot serve: malformed references, and hosts with a port (a `:` cannot appear in a repository name).
 */
export function registryImageOf(ref: string): RegistryImage | undefined {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  // distribution's rule: the first component is a host when it looks like one.
  const hasHost =
    first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase();
  let host = hasHost ? first.toLowerCase() : "docker.io";
  let path = hasHost ? rest.slice(slash + 1) : rest;
  if (host === "index.docker.io") host = "docker.io";
  if (!HOST.test(host) || !path.split("/").every((component) => PATH_COMPONENT.test(component)))
    return undefined;
  if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (tag === undefined && digest === undefined) tag = "latest";
  return {
    repository: `${host}/${path}`,
    host,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}
