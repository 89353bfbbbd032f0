/**
 * Azure SDK clients built from configuration: a connection string locally (emulators, Azurite),
 * a namespace or account name with managed identity in Azure. Services call these only from
 * `main.ts`; everything else receives the client it needs.
 */
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import type { Connection } from "../config/fields.ts";

export interface AzureIdentityConfig {
  /** Client ID of a user-assigned managed identity; default: the system identity or developer login. */
  clientId?: string | undefined;
  tenantId?: string | undefined;
}

export function createCredential(identity: AzureIdentityConfig = {}): TokenCredential {
  return new DefaultAzureCredential({
    ...(identity.clientId ? { managedIdentityClientId: identity.clientId } : {}),
    ...(identity.tenantId ? { tenantId: identity.tenantId } : {}),
  });
}

export function createServiceBusClient(
  connection: Connection,
  identity: AzureIdentityConfig = {},
  options: ServiceBusClientOptions = {},
): ServiceBusClient {
  return connection.kind === "connectionString"
    ? new ServiceBusClient(connection.connectionString, options)
    : new ServiceBusClient(connection.fullyQualifiedNamespace, createCredential(identity), options);
}
