// Application Insights' connection string for the services (APPLICATIONINSIGHTS_CONNECTION_STRING),
// kept in Key Vault like the other secrets and readable by the given identities only, so no app
// setting holds its instrumentation key. The services export traces, metrics and logs themselves
// (shared/src/azureMonitorExport.ts): the Container Apps OpenTelemetry agent sends no metrics to
// Application Insights, so it is not used.

param vaultName string
param appInsightsName string

@description('Principal IDs of the identities that read the secret (the services).')
param readerPrincipalIds string[]

import { roleIds } from 'roleDefinitions.bicep'

var secretName = 'appinsights-connection-string'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = {
  parent: vault
  name: secretName
  properties: { value: appInsights.properties.ConnectionString, contentType: 'text/plain' }
}

resource readers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in readerPrincipalIds: {
    scope: secret
    name: guid(secret.id, principalId, roleIds.keyVaultSecretsUser)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

output secretName string = secretName
// Versionless: a rotated value reaches the apps without a redeployment.
output secretUrl string = '${vault.properties.vaultUri}secrets/${secretName}'
