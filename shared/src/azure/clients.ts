/**
 * Azure SDK clients built from configuration: a connection string locally (emulators, Azurite),
 * a namespace or account name with managed identity in Azure. Services call these only from
 * `main.ts`; everything else receives the client it needs.
 */
import type { TokenCredential } from "@azure/core-auth";
import { TableClient } from "@azure/data-tables";
import { DefaultAzureCredential } from "@azure/identity";
import { ServiceBusClient, type ServiceBusClientOptions } from "@azure/service-bus";
import type { Connection, StorageConnection } from "../config/fields.ts";

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

/** A client of one table: by connection string (Azurite locally), else by account with the managed identity. */
export function createTableClient(
  storage: StorageConnection,
  table: string,
  credential: () => TokenCredential,
): TableClient {
  return storage.kind === "connectionString"
    ? TableClient.fromConnectionString(storage.connectionString, table, {
        // Azurite speaks plain HTTP; Azure's connection strings name https endpoints.
        allowInsecureConnection: /UseDevelopmentStorage=true|Endpoint=http:\/\//i.test(
          storage.connectionString,
        ),
      })
    : new TableClient(storage.tableUrl, table, credential());
}
