// Least-privilege data-plane roles, each on the narrowest scope that works: one queue, topic, hub, blob
// container, table or Key Vault secret rather than a namespace, account or vault. No Contributor, no keys.
//
// KEDA's azure-servicebus scaler reads entity runtime properties (message counts), which Service Bus
// authorises only with Manage rights; "Azure Service Bus Data Owner" is the only role that grants them with
// Entra ID. So it goes to the scale rules' own identities, on their one entity, and never to a service:
// the apps receive and send with Data Receiver / Data Sender, and cannot get a token for a scale identity.

import { roleIds } from 'roleDefinitions.bicep'

param serviceBusNamespaceName string
param queueName string
param sweepQueueName string
param topicName string
param eventHubsNamespaceName string
param hubName string
param storageAccountName string
param checkpointContainerName string
param scanMetadataTableName string
param scanHistoryTableName string
param workloadsTableName string
param vaultName string
param qualysTokenSecretName string
param recorderApiKeySecretName string
param notificationsQueueName string

@description('Whether the recorder reads its notification secrets (notifySecretNames) from Key Vault.')
param notifications bool
param notifySecretNames string[]
param registryName string
param principals { ingest: string, scanner: string, recorder: string }

@description('Principals of the KEDA scale rules\' identities, one per app.')
param scalePrincipals { ingest: string, scanner: string, recorder: string }

@description('Principal Event Grid delivers to the hub with (the system topic of every monitored subscription).')
param eventGridPrincipal string

resource serviceBus 'Microsoft.ServiceBus/namespaces@2026-01-01' existing = {
  name: serviceBusNamespaceName

  resource queue 'queues' existing = {
    name: queueName
  }

  resource sweepQueue 'queues' existing = {
    name: sweepQueueName
  }

  resource topic 'topics' existing = {
    name: topicName
  }

  resource notifications 'queues' existing = {
    name: notificationsQueueName
  }
}

resource eventHubs 'Microsoft.EventHub/namespaces@2026-01-01' existing = {
  name: eventHubsNamespaceName

  resource hub 'eventhubs' existing = {
    name: hubName
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource checkpoints 'containers' existing = {
      name: checkpointContainerName
    }
  }

  resource tableService 'tableServices' existing = {
    name: 'default'

    resource scanMetadata 'tables' existing = {
      name: scanMetadataTableName
    }

    resource scanHistory 'tables' existing = {
      name: scanHistoryTableName
    }

    resource workloads 'tables' existing = {
      name: workloadsTableName
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: vaultName

  resource qualysToken 'secrets' existing = {
    name: qualysTokenSecretName
  }

  resource recorderApiKey 'secrets' existing = {
    name: recorderApiKeySecretName
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

// ingest: read the hub, keep checkpoints, send scan requests, pull its image.
resource ingestHub 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs::hub
  name: guid(eventHubs::hub.id, principals.ingest, roleIds.eventHubsDataReceiver)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataReceiver)
    principalId: principals.ingest
    principalType: 'ServicePrincipal'
  }
}

resource ingestCheckpoints 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::blobService::checkpoints
  name: guid(storage::blobService::checkpoints.id, principals.ingest, roleIds.storageBlobDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: principals.ingest
    principalType: 'ServicePrincipal'
  }
}

// ingest and its sweep job are the one writer of Workloads.
resource ingestWorkloads 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::tableService::workloads
  name: guid(storage::tableService::workloads.id, principals.ingest, roleIds.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principals.ingest
    principalType: 'ServicePrincipal'
  }
}

resource ingestQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::queue
  name: guid(serviceBus::queue.id, principals.ingest, roleIds.serviceBusDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: principals.ingest
    principalType: 'ServicePrincipal'
  }
}

// The sweep runs with ingest's identity and sends to its own queue.
resource ingestSweepQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::sweepQueue
  name: guid(serviceBus::sweepQueue.id, principals.ingest, roleIds.serviceBusDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: principals.ingest
    principalType: 'ServicePrincipal'
  }
}

// scanner: receive the queue and send it the delayed copies of retried requests, publish results, read the
// scan cache, read the Qualys token. Image pulls, its own included, are covered by AcrPull on each
// monitored subscription.
resource scannerQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [roleIds.serviceBusDataReceiver, roleIds.serviceBusDataSender]: {
    scope: serviceBus::queue
    name: guid(serviceBus::queue.id, principals.scanner, role)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principals.scanner
      principalType: 'ServicePrincipal'
    }
  }
]

resource scannerSweepQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [roleIds.serviceBusDataReceiver, roleIds.serviceBusDataSender]: {
    scope: serviceBus::sweepQueue
    name: guid(serviceBus::sweepQueue.id, principals.scanner, role)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principals.scanner
      principalType: 'ServicePrincipal'
    }
  }
]

resource scannerTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::topic
  name: guid(serviceBus::topic.id, principals.scanner, roleIds.serviceBusDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataSender)
    principalId: principals.scanner
    principalType: 'ServicePrincipal'
  }
}

resource scannerCache 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::tableService::scanMetadata
  name: guid(storage::tableService::scanMetadata.id, principals.scanner, roleIds.storageTableDataReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataReader)
    principalId: principals.scanner
    principalType: 'ServicePrincipal'
  }
}

resource scannerSecret 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault::qualysToken
  name: guid(vault::qualysToken.id, principals.scanner, roleIds.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principals.scanner
    principalType: 'ServicePrincipal'
  }
}

// recorder: receive its subscription, write both scan tables, read Workloads (coverage), read its API
// key, pull its image.
resource recorderTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::topic
  name: guid(serviceBus::topic.id, principals.recorder, roleIds.serviceBusDataReceiver)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataReceiver)
    principalId: principals.recorder
    principalType: 'ServicePrincipal'
  }
}

resource recorderMetadata 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::tableService::scanMetadata
  name: guid(storage::tableService::scanMetadata.id, principals.recorder, roleIds.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principals.recorder
    principalType: 'ServicePrincipal'
  }
}

resource recorderHistory 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::tableService::scanHistory
  name: guid(storage::tableService::scanHistory.id, principals.recorder, roleIds.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: principals.recorder
    principalType: 'ServicePrincipal'
  }
}

resource recorderWorkloads 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::tableService::workloads
  name: guid(storage::tableService::workloads.id, principals.recorder, roleIds.storageTableDataReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataReader)
    principalId: principals.recorder
    principalType: 'ServicePrincipal'
  }
}

resource recorderSecret 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault::recorderApiKey
  name: guid(vault::recorderApiKey.id, principals.recorder, roleIds.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principals.recorder
    principalType: 'ServicePrincipal'
  }
}

resource notifySecrets 'Microsoft.KeyVault/vaults/secrets@2026-02-01' existing = [
  for name in notifySecretNames: {
    parent: vault
    name: name
  }
]

resource recorderNotifySecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in notifySecretNames: if (notifications) {
    scope: notifySecrets[i]
    name: guid(notifySecrets[i].id, principals.recorder, roleIds.keyVaultSecretsUser)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
      principalId: principals.recorder
      principalType: 'ServicePrincipal'
    }
  }
]

resource pulls 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in [principals.ingest, principals.recorder]: {
    scope: registry
    name: guid(registry.id, principal, roleIds.acrPull)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.acrPull)
      principalId: principal
      principalType: 'ServicePrincipal'
    }
  }
]

// KEDA, ingest's rule: partition properties of the hub (Listen) and the checkpoints in blob metadata.
resource ingestScaleHub 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs::hub
  name: guid(eventHubs::hub.id, scalePrincipals.ingest, roleIds.eventHubsDataReceiver)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataReceiver)
    principalId: scalePrincipals.ingest
    principalType: 'ServicePrincipal'
  }
}

resource ingestScaleCheckpoints 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage::blobService::checkpoints
  name: guid(storage::blobService::checkpoints.id, scalePrincipals.ingest, roleIds.storageBlobDataReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: scalePrincipals.ingest
    principalType: 'ServicePrincipal'
  }
}

// KEDA, scanner's and recorder's rules: message counts of their entities (Manage, see above).
resource scannerScaleQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::queue
  name: guid(serviceBus::queue.id, scalePrincipals.scanner, roleIds.serviceBusDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
    principalId: scalePrincipals.scanner
    principalType: 'ServicePrincipal'
  }
}

resource scannerScaleSweepQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::sweepQueue
  name: guid(serviceBus::sweepQueue.id, scalePrincipals.scanner, roleIds.serviceBusDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
    principalId: scalePrincipals.scanner
    principalType: 'ServicePrincipal'
  }
}

resource recorderScaleTopic 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::topic
  name: guid(serviceBus::topic.id, scalePrincipals.recorder, roleIds.serviceBusDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
    principalId: scalePrincipals.recorder
    principalType: 'ServicePrincipal'
  }
}

// recorder's notifier: queue notifications as it records, deliver them, dead-letter what receivers refuse.
resource recorderNotifications 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [roleIds.serviceBusDataReceiver, roleIds.serviceBusDataSender]: {
    scope: serviceBus::notifications
    name: guid(serviceBus::notifications.id, principals.recorder, role)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principals.recorder
      principalType: 'ServicePrincipal'
    }
  }
]

resource recorderScaleNotifications 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: serviceBus::notifications
  name: guid(serviceBus::notifications.id, scalePrincipals.recorder, roleIds.serviceBusDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.serviceBusDataOwner)
    principalId: scalePrincipals.recorder
    principalType: 'ServicePrincipal'
  }
}

// Event Grid: the system topics of all monitored subscriptions deliver to the hub with one identity.
resource eventGridSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: eventHubs::hub
  name: guid(eventHubs::hub.id, eventGridPrincipal, roleIds.eventHubsDataSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataSender)
    principalId: eventGridPrincipal
    principalType: 'ServicePrincipal'
  }
}
