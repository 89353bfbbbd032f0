// Event Grid system topic on one monitored subscription with one event subscription: successful writes and
// deletes of container groups, container apps and jobs, delivered to the central "activity-log" hub within
// seconds. Delivery uses a user-assigned identity shared by every monitored subscription's topic (Event Hubs
// Data Sender on that hub only, granted in roles.bicep), not a key.

param tags object
param systemTopicName string
param eventSubscriptionName string

@description('Resource ID of the central hub (in the deployment\'s subscription).')
param hubId string

@description('Resource ID of the user-assigned identity the topic delivers with.')
param deliveryIdentityId string

@description('ARM operations that change what runs (data.operationName of ResourceWriteSuccess / ResourceDeleteSuccess).')
param operationNames string[] = [
  'Microsoft.ContainerInstance/containerGroups/write'
  'Microsoft.App/containerApps/write'
  'Microsoft.App/jobs/write'
  'Microsoft.ContainerInstance/containerGroups/delete'
  'Microsoft.App/containerApps/delete'
  'Microsoft.App/jobs/delete'
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  // Subscription-level system topics are global.
  location: 'global'
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${deliveryIdentityId}': {} }
  }
  properties: {
    source: subscription().id
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource containerChanges 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: eventSubscriptionName
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess', 'Microsoft.Resources.ResourceDeleteSuccess']
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: operationNames
        }
      ]
    }
    deliveryWithResourceIdentity: {
      identity: { type: 'UserAssigned', userAssignedIdentity: deliveryIdentityId }
      destination: {
        endpointType: 'EventHub'
        properties: { resourceId: hubId }
      }
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}
