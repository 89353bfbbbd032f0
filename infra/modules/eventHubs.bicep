// Event Hubs: the "activity-log" hub that both the Activity Log diagnostic setting and the Event Grid
// subscription deliver to, and the "ingest" consumer group the ingest service reads with.

param location string
param tags object
param namespaceName string
param hubName string
param consumerGroupName string

@minValue(1)
@maxValue(32)
param partitionCount int

@description('Whether a namespace-level shared access policy exists for the Activity Log diagnostic setting (Azure Monitor streams to Event Hubs only through one). False disables local (SAS) authentication altogether.')
param activityLogStream bool

// Name of the shared access policy Azure Monitor uses; no service of ours ever reads its keys.
var diagnosticsRuleName = 'azure-monitor-activity-log'

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  // Standard: Basic allows only the $Default consumer group.
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: {
    minimumTlsVersion: '1.2'
    disableLocalAuth: !activityLogStream
    isAutoInflateEnabled: false
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: 1
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01' = {
  parent: hub
  name: consumerGroupName
}

// Azure Monitor requires Manage, Send and Listen on a namespace-level policy to stream the Activity Log.
resource diagnosticsRule 'Microsoft.EventHub/namespaces/authorizationRules@2026-01-01' = if (activityLogStream) {
  parent: namespace
  name: diagnosticsRuleName
  properties: { rights: ['Manage', 'Send', 'Listen'] }
}

output namespaceName string = namespace.name
output hubName string = hub.name
output hubId string = hub.id
output consumerGroupName string = consumerGroup.name
output diagnosticsRuleId string = activityLogStream ? diagnosticsRule.id : ''
