// Event Grid system topic on the subscription with one subscription: ResourceWriteSuccess for container
// groups, container apps and jobs, delivered to the same "activity-log" hub within seconds. Delivery uses
// the topic's managed identity (Event Hubs Data Sender on that hub only), not a key.

import { roleIds } from 'roleDefinitions.bicep'

param tags object
param systemTopicName string
param eventSubscriptionName string
param eventHubsNamespaceName string
param hubName string

@description('ARM write operations that start a scan (data.operationName of ResourceWriteSuccess).')
param operationNames string[] = [
  'Microsoft.ContainerInstance/containerGroups/write'
  'Microsoft.App/containerApps/write'
  'Microsoft.App/jobs/write'
]

resource eventHubs 'Microsoft.EventHub/namespaces@2026-01-01' existing = {
  name: eventHubsNamespaceName

  resource hub 'eventhubs' existing = {
    name: hubName
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource sender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs::hub
  name: guid(eventHubs::hub.id, systemTopic.id, roleIds.eventHubsDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataSender)
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource containerWrites 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: eventSubscriptionName
  dependsOn: [sender]
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess']
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: operationNames
        }
      ]
    }
    deliveryWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      destination: {
        endpointType: 'EventHub'
        properties: { resourceId: eventHubs::hub.id }
      }
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = systemTopic.name
