/**
 * Every container group, container app and job of the given subscriptions (none: every
 * subscription the identity can read), with one Resource Graph query followed page by page through
 * `$skipToken`. Throttling (429 with Retry-After) is retried by the SDK's pipeline; what still fails
 * throws. Rows carry ARM's `id` and `properties`, so the lookup's document reader applies.
 */
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { WATCHED_TYPES } from "../../core/resourceId.ts";

export const SWEEP_QUERY = `Resources | where type in~ (${Object.values(WATCHED_TYPES)
  .map((type) => `'${type.toLowerCase()}'`)
  .join(",")}) | project id, name, type, subscriptionId, resourceGroup, properties`;

export interface GraphRow {
  id: string;
  type: string;
  properties: unknown;
}

export interface GraphListing {
  rows: GraphRow[];
  pages: number;
}

export async function listWorkloadsInGraph(
  client: ResourceGraphClient,
  subscriptions: readonly string[],
  pageSize = 1000,
): Promise<GraphListing> {
  const rows: GraphRow[] = [];
  let pages = 0;
  let skipToken: string | undefined;
  do {
    const page = await client.resources({
      ...(subscriptions.length > 0 ? { subscriptions: [...subscriptions] } : {}),
      query: SWEEP_QUERY,
      options: { resultFormat: "objectArray", top: pageSize, ...(skipToken ? { skipToken } : {}) },
    });
    pages += 1;
    if (page.resultTruncated === "true")
      throw new Error("Resource Graph truncated the answer and cannot page it");
    for (const row of page.data as Record<string, unknown>[]) {
      if (typeof row.id === "string" && typeof row.type === "string")
        rows.push({ id: row.id, type: row.type, properties: row.properties });
    }
    skipToken = page.skipToken;
  } while (skipToken);
  return { rows, pages };
}
