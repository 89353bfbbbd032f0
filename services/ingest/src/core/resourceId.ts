/**
 * ARM resource IDs of the resource types whose deployments we scan. Operation names and resource
 * IDs arrive in any casing (the Activity Log stream upper-cases them, Event Grid lower-cases
 * `resourcegroups`), so every comparison is case-insensitive and the canonical spelling comes
 * from the table below.
 */

export type ResourceKind = "aci" | "aca" | "aca-job";

/** The watched resource types, spelled as ARM spells them. */
export const WATCHED_TYPES: Readonly<Record<ResourceKind, string>> = {
  aci: "Microsoft.ContainerInstance/containerGroups",
  aca: "Microsoft.App/containerApps",
  "aca-job": "Microsoft.App/jobs",
};

const KIND_BY_LOWER_TYPE = new Map(
  Object.entries(WATCHED_TYPES).map(([kind, type]) => [type.toLowerCase(), kind as ResourceKind]),
);

/** The kind of a watched resource type (`microsoft.app/jobs` -> `aca-job`), in any casing. */
export function kindOfType(type: string): ResourceKind | undefined {
  return KIND_BY_LOWER_TYPE.get(type.toLowerCase());
}

export interface ResourceId {
  subscriptionId: string;
  resourceGroup: string;
  /** `Namespace/type[/childType...]` as written in the ID. */
  type: string;
  /** Name of the last resource in the ID (the child's, for a child resource). */
  name: string;
}

export type ResourceIdResult = { ok: true; value: ResourceId } | { ok: false; reason: string };

const SUBSCRIPTION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// ARM's documented resource-group characters: letters, digits, underscore, hyphen, period, parentheses.
const RESOURCE_GROUP = /^[-\p{L}\p{N}_.()]{1,90}$/u;
// Names go into ARM request paths: allow what ACI / ACA names may contain, nothing that needs escaping.
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9_])?$/;
const TYPE_SEGMENT = /^[A-Za-z][A-Za-z0-9.]*$/;

/**
 * Parses `/subscriptions/{id}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}[/{type}/{name}...]`.
 * Keywords match in any casing; the reason names what is wrong.
 */
export function parseResourceId(input: unknown): ResourceIdResult {
  if (typeof input !== "string" || input.length === 0) return fail("empty or not a string");
  if (input.length > 2048) return fail("longer than 2048 characters");
  const segments = input.split("/");
  if (segments[0] !== "") return fail("does not start with '/'");
  const [, subscriptions, subscriptionId, resourceGroups, resourceGroup, providers, namespace, ...rest] =
    segments;
  if (subscriptions?.toLowerCase() !== "subscriptions" || subscriptionId === undefined)
    return fail("does not start with /subscriptions/{id}");
  if (!SUBSCRIPTION.test(subscriptionId)) return fail("subscription ID is not a GUID");
  if (resourceGroups?.toLowerCase() !== "resourcegroups" || resourceGroup === undefined)
    return fail("no /resourceGroups/{name} after the subscription");
  if (!RESOURCE_GROUP.test(resourceGroup) || resourceGroup.endsWith("."))
    return fail("malformed resource group name");
  if (providers?.toLowerCase() !== "providers" || namespace === undefined || !TYPE_SEGMENT.test(namespace))
    return fail("no /providers/{Namespace} after the resource group");
  if (rest.length < 2 || rest.length % 2 !== 0)
    return fail("expected {type}/{name} pairs after the namespace");
  const types = [namespace];
  let name = "";
  for (let i = 0; i < rest.length; i += 2) {
    const type = rest[i] ?? "";
    name = rest[i + 1] ?? "";
    if (!TYPE_SEGMENT.test(type)) return fail(`malformed resource type segment ${JSON.stringify(type)}`);
    if (!NAME.test(name)) return fail(`malformed resource name ${JSON.stringify(name)}`);
    types.push(type);
  }
  return { ok: true, value: { subscriptionId, resourceGroup, type: types.join("/"), name } };
}

/** `/subscriptions/{lower-case id}/resourceGroups/{rg}/providers/{canonical type}/{name}`. */
export function formatResourceId(
  subscriptionId: string,
  resourceGroup: string,
  kind: ResourceKind,
  name: string,
) {
  return `/subscriptions/${subscriptionId.toLowerCase()}/resourceGroups/${resourceGroup}/providers/${WATCHED_TYPES[kind]}/${name}`;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
