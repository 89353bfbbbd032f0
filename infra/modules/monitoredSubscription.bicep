// Everything one monitored subscription needs so that its container deployments reach the central hub and
// can be looked up and scanned: the Activity Log diagnostic setting, an Event Grid system topic (in a
// resource group of that subscription) with its event subscription, and the subscription-wide roles of
// ingest (read container groups, apps and jobs) and the scanner (pull any image they run, as the original
// system did).

targetScope = 'subscription'

import { roleIds } from 'roleDefinitions.bicep'

param location string
param tags object

@description('Resource group of this subscription that holds its Event Grid system topic.')
param resourceGroupName string

@description('Stream the Activity Log too (needs eventHubAuthorizationRuleId).')
param activityLogStream bool
param activityLogSettingName string
param eventHubAuthorizationRuleId string

@description('The central hub: its resource ID, and its name for the diagnostic setting.')
param hubId string
param hubName string
param systemTopicName string
param eventSubscriptionName string
param deliveryIdentityId string

param ingestPrincipalId string
param scannerPrincipalId string

@description('Name (GUID) of the custom role with the read actions ingest and its sweep need.')
param workloadReaderRoleName string

// The Administrative category holds every resource write and delete. Minutes of latency: the fallback and
// audit path next to Event Grid.
resource activityLog 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (activityLogStream) {
  name: activityLogSettingName
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: hubName
    logs: [{ category: 'Administrative', enabled: true }]
  }
}

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module eventGrid 'eventGrid.bicep' = {
  scope: rg
  params: {
    tags: tags
    systemTopicName: systemTopicName
    eventSubscriptionName: eventSubscriptionName
    hubId: hubId
    deliveryIdentityId: deliveryIdentityId
  }
}

resource ingestReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, ingestPrincipalId, workloadReaderRoleName)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', workloadReaderRoleName)
    principalId: ingestPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource scannerPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, scannerPrincipalId, roleIds.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
    principalId: scannerPrincipalId
    principalType: 'ServicePrincipal'
  }
}
