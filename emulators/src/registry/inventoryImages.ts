/** The image references an ARM inventory deploys: what the local registry serves. */
import type { ArmResource } from "../arm/inventory.ts";

/** The images named by the containers and init containers of ARM documents (ACI, container apps, jobs). */
export function inventoryImageRefs(resources: readonly ArmResource[]): string[] {
  const refs = new Set<string>();
  for (const resource of resources) {
    const properties = (resource.properties ?? {}) as Record<string, unknown>;
    const template = (properties.template ?? {}) as Record<string, unknown>;
    for (const list of [
      properties.containers,
      properties.initContainers,
      template.containers,
      template.initContainers,
    ]) {
      if (!Array.isArray(list)) continue;
      for (const container of list as { image?: unknown; properties?: { image?: unknown } }[]) {
        const image = container?.image ?? container?.properties?.image;
        if (typeof image === "string") refs.add(image);
      }
    }
  }
  return [...refs];
}
