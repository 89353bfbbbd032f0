/**
 * Which registries need a token from us before qscanner can read them. Azure Container Registry
 * login servers are matched on the suffix (newer registries put a hash in the host name);
 * everything else is pulled anonymously.
 */
const ACR_SUFFIXES = [".azurecr.io", ".azurecr.cn", ".azurecr.us"] as const;

export type RegistryAuthKind = "acr" | "anonymous";

export function registryAuthKind(registry: string): RegistryAuthKind {
  const host = registry.toLowerCase().replace(/:\d+$/, "");
  return ACR_SUFFIXES.some((suffix) => host.endsWith(suffix)) ? "acr" : "anonymous";
}
