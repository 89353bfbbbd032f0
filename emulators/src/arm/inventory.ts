/**
 * The ARM emulator's inventory: container groups, container apps and jobs exactly as the ARM REST
 * API returns them from GET, indexed by resource ID (case-insensitive, as in ARM).
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The inventory `npm run emulators` serves by default: the reference samples (a container group, an app, a job). */
export const projectArmInventoryPath = fileURLToPath(
  new URL("../../config/arm/inventory.json", import.meta.url),
);

/** A resource document as ARM returns it: `id`, `name`, `type`, `location`, `properties`, ... */
export interface ArmResource {
  id: string;
  [field: string]: unknown;
}

/** The resource types served, keyed by lower-case `Namespace/type`, with the api-versions accepted. */
export const SERVED_TYPES: ReadonlyMap<string, { type: string; apiVersions: readonly string[] }> = new Map([
  [
    "microsoft.containerinstance/containergroups",
    {
      type: "Microsoft.ContainerInstance/containerGroups",
      // 2023-05-01 is what @azure/arm-containerinstance 9.x calls.
      apiVersions: [
        "2023-05-01",
        "2024-05-01-preview",
        "2024-09-01-preview",
        "2024-11-01-preview",
        "2025-09-01",
      ],
    },
  ],
  [
    "microsoft.app/containerapps",
    {
      type: "Microsoft.App/containerApps",
      // 2026-07-01 is what @azure/arm-appcontainers 4.x calls.
      apiVersions: ["2024-03-01", "2025-01-01", "2025-07-01", "2026-07-01"],
    },
  ],
  [
    "microsoft.app/jobs",
    { type: "Microsoft.App/jobs", apiVersions: ["2024-03-01", "2025-01-01", "2025-07-01", "2026-07-01"] },
  ],
]);

export interface ResourceAddress {
  subscriptionId: string;
  resourceGroup: string;
  /** Lower-case `namespace/type`. */
  type: string;
  name: string;
}

const ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/i;

export function addressOf(id: string): ResourceAddress | undefined {
  const match = ID.exec(id);
  if (!match) return undefined;
  const [, subscriptionId = "", resourceGroup = "", type = "", name = ""] = match;
  return { subscriptionId, resourceGroup, type: type.toLowerCase(), name };
}

export class Inventory {
  readonly #byId = new Map<string, ArmResource>();

  constructor(resources: readonly ArmResource[]) {
    resources.forEach((resource, index) => {
      this.put(resource, `resource ${index}`);
    });
  }

  /** Adds or replaces a resource; throws naming what is wrong with it. */
  put(resource: ArmResource, where = "resource"): void {
    if (typeof resource?.id !== "string") throw new Error(`${where} has no string "id"`);
    const address = addressOf(resource.id);
    if (!address) throw new Error(`${where}: "${resource.id}" is not a resource ID of a provider resource`);
    if (!SERVED_TYPES.has(address.type)) {
      throw new Error(
        `${where}: type ${address.type} is not served (${[...SERVED_TYPES.keys()].join(", ")})`,
      );
    }
    this.#byId.set(resource.id.toLowerCase(), resource);
  }

  remove(id: string): boolean {
    return this.#byId.delete(id.toLowerCase());
  }

  /** Every resource, in the order they were added. */
  all(): ArmResource[] {
    return [...this.#byId.values()];
  }

  get(id: string): ArmResource | undefined {
    return this.#byId.get(id.toLowerCase());
  }

  /** Resources of one type in a subscription, optionally one resource group (case-insensitive). */
  list(subscriptionId: string, type: string, resourceGroup?: string): ArmResource[] {
    return [...this.#byId.values()].filter((resource) => {
      const address = addressOf(resource.id);
      return (
        address !== undefined &&
        address.type === type.toLowerCase() &&
        address.subscriptionId.toLowerCase() === subscriptionId.toLowerCase() &&
        (resourceGroup === undefined || address.resourceGroup.toLowerCase() === resourceGroup.toLowerCase())
      );
    });
  }

  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    const prefix = `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/`.toLowerCase();
    return [...this.#byId.keys()].some((id) => id.startsWith(prefix));
  }
}

/**
 * Reads an inventory file: a JSON array of resources, or `{ "value": [...] }` as ARM's list
 * operations return them.
 */
export async function readInventoryFile(path: string): Promise<ArmResource[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read inventory ${path}: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { value?: unknown })?.value;
  if (!Array.isArray(list)) throw new Error(`inventory ${path}: expected a JSON array or { "value": [...] }`);
  return list as ArmResource[];
}
