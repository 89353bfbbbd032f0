// The shared samples (copied from the team's reference material) and builders for variations.
import { readFileSync } from "node:fs";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8"));

export const samples = {
  activityLogAci: () => fixture("aci-write.json") as { records: Record<string, unknown>[] },
  activityLogAca: () => fixture("aca-write.json") as { records: Record<string, unknown>[] },
  eventGrid: () => fixture("resource-write-success.json") as Record<string, unknown>[],
  cloudEvent: () => fixture("resource-write-success.cloudevents.json") as Record<string, unknown>,
  armContainerGroup: () => fixture("container-group.json") as Record<string, unknown>,
  armContainerApp: () => fixture("container-app.json") as Record<string, unknown>,
  armJob: () => fixture("container-app-job.json") as Record<string, unknown>,
};

export const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";

/** An Activity Log record of the Event Hubs stream shape (upper-cased IDs and operation names). */
export function activityLogRecord(options: {
  resourceId: string;
  operationName: string;
  resultType?: string;
  correlationId?: string;
  time?: string;
}): Record<string, unknown> {
  return {
    time: options.time ?? "2025-03-14T09:21:11.5541870Z",
    resourceId: options.resourceId.toUpperCase(),
    operationName: options.operationName.toUpperCase(),
    category: "Administrative",
    resultType: options.resultType ?? "Success",
    resultSignature: options.resultType === "Start" ? "Started." : "Succeeded.Created",
    durationMs: 4113,
    correlationId: options.correlationId ?? "b68e55d5-4884-455a-8245-8e83155b7790",
    level: "Information",
    location: "global",
    properties: {
      eventCategory: "Administrative",
      entity: options.resourceId,
      message: options.operationName,
    },
  };
}

export function resourceId(group: string, type: string, name: string): string {
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/${group}/providers/${type}/${name}`;
}

/** The mostly unrelated traffic of a real subscription's Administrative log, for volume tests. */
export const UNRELATED_OPERATIONS = [
  ["Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/write"],
  ["Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/listKeys/action"],
  ["Microsoft.Web/sites", "Microsoft.Web/sites/restart/action"],
  ["Microsoft.KeyVault/vaults", "Microsoft.KeyVault/vaults/write"],
  ["Microsoft.Network/networkSecurityGroups", "Microsoft.Network/networkSecurityGroups/write"],
  ["Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/start/action"],
  ["Microsoft.Resources/deployments", "Microsoft.Resources/deployments/write"],
  ["Microsoft.Authorization/roleAssignments", "Microsoft.Authorization/roleAssignments/write"],
] as const;
