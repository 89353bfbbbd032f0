// Container Apps environment (Consumption profile: billed per use, replicas can scale to zero). Logs go
// to Log Analytics through a diagnostic setting (no workspace key); the environment's managed
// OpenTelemetry agent forwards the services' traces to Application Insights.

param location string
param tags object
param environmentName string
param workspaceId string
param appInsightsName string

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// The managed OpenTelemetry agent (appInsightsConfiguration, openTelemetryConfiguration) exists only in
// preview API versions of managedEnvironments; the apps themselves use a stable version.
resource environment 'Microsoft.App/managedEnvironments@2025-10-02-preview' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    appInsightsConfiguration: { connectionString: appInsights.properties.ConnectionString }
    openTelemetryConfiguration: {
      tracesConfiguration: { destinations: ['appInsights'] }
    }
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
