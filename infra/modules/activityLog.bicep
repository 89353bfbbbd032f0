// The subscription's Activity Log (category Administrative, which holds every resource write) streamed
// to the "activity-log" hub. Minutes of latency: the fallback and audit path next to Event Grid.

targetScope = 'subscription'

param settingName string
param eventHubAuthorizationRuleId string
param hubName string

resource activityLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: settingName
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: hubName
    logs: [{ category: 'Administrative', enabled: true }]
  }
}
