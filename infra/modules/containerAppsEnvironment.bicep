// Container Apps environment (Consumption profile: billed per use, replicas can scale to zero). Logs go
// to Log Analytics through a diagnostic setting (no workspace key). No managed OpenTelemetry agent: it
// sends traces and logs to Application Insights but metrics only to other OTLP endpoints, so the
// services export all three to Application Insights themselves (modules/appInsightsConnection.bicep).

param location string
param tags object
param environmentName string
param workspaceId string

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
    zoneRedundant: false
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  scope: environment
  name: 'to-log-analytics'
  properties: {
    workspaceId: workspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

output environmentId string = environment.id
