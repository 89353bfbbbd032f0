// Event-driven container image scanning for one or more Azure subscriptions: the Activity Log and Event
// Grid of each feed one central Event Hub; ingest, scanner and recorder run as Container Apps scaled by
// KEDA (to zero when idle) and talk to Service Bus, Storage and Key Vault with their own managed
// identities. No keys, no connection strings: every data-plane call is Entra ID.
//
// Deploy with ./deploy.sh (it builds the images in the registry this template creates); the parameters
// live in main.bicepparam.

targetScope = 'subscription'

@description('Short name for this installation (letters, digits, hyphens); every resource name derives from it.')
@minLength(2)
@maxLength(10)
param environmentName string

@description('Region of every regional resource.')
param location string

@description('Resource group that holds everything but the subscription-level settings.')
param resourceGroupName string = 'rg-${environmentName}'

@description('Qualys platform (POD) the scanner uploads to.')
@allowed(['US1', 'US2', 'US3', 'US4', 'EU1', 'EU2', 'EU3', 'IN1', 'CA1', 'AE1', 'UK1', 'AU1', 'KSA1'])
param qualysPod string

@secure()
@description('Qualys access token, stored in Key Vault. Empty keeps the value already stored.')
param qualysAccessToken string = ''

@secure()
@description('Bearer key for the recorder API, stored in Key Vault. Empty keeps the value already stored.')
param recorderApiKey string = ''

@secure()
@description('NOTIFY_WEBHOOKS (FORMAT=URL,...), stored in Key Vault as notify-webhooks. Empty keeps the value already stored.')
param notifyWebhooks string = ''

@secure()
@description('NOTIFY_WEBHOOK_SECRET (HMAC key of X-QCS-Signature), stored in Key Vault as notify-webhook-secret. Empty keeps the value already stored.')
param notifyWebhookSecret string = ''

@description('Give the recorder notify-webhooks and notify-webhook-secret from Key Vault: only once both are stored, since a reference to a missing secret fails the revision.')
param notifications bool = false

@description('Image tag of the three services in the registry (deploy.sh passes the git commit).')
param imageTag string

@description('False on the first pass of deploy.sh: everything but the apps, whose images do not exist yet.')
param deployApps bool = true

@description('qscanner version baked into the scanner image (informational; logged by the scanner).')
param qscannerVersion string

@description('Scans one scanner replica runs at once; also the KEDA messageCount per replica.')
@minValue(1)
@maxValue(64)
param scannerConcurrency int = 2

@description('Hours a successful scan of a digest is reused; also the queue\'s duplicate-detection window (max 7 days).')
@minValue(1)
@maxValue(168)
param scanCacheHours int = 24

@description('Seconds one qscanner run may take.')
@minValue(60)
@maxValue(21600)
param scanTimeoutSeconds int = 1800

@description('Partitions of the activity-log hub; also the most ingest replicas that can do work.')
@minValue(1)
@maxValue(32)
param eventHubPartitionCount int = 4

@description('Most scanner replicas (each runs scannerConcurrency scans).')
@minValue(1)
@maxValue(300)
param scannerMaxReplicas int = 10

@description('Most scanner replicas the sweep queue alone scales to, so a sweep cannot exhaust the registries\' or Qualys\'s budget; deployment requests still scale to scannerMaxReplicas.')
@minValue(1)
@maxValue(300)
param sweepMaxReplicas int = 2

@description('Largest sweep backlog the sweep cap is sized for (about the number of distinct running images): the sweep queue\'s KEDA rule asks one replica per ceil(sweepMaxBacklog / sweepMaxReplicas) waiting sweep requests.')
@minValue(1)
param sweepMaxBacklog int = 5000

@description('Stream the Activity Log to the hub as well as Event Grid (minutes of latency; needs a SAS policy on the Event Hubs namespace for Azure Monitor).')
param activityLogStream bool = true

@description('Subscriptions whose container groups, apps and jobs are scanned (same tenant); empty means the one deployed to. Each gets the Activity Log setting, an Event Grid system topic in its own resource group named resourceGroupName, and the read and pull roles.')
param monitoredSubscriptionIds string[] = []

@description('Schedule (cron, UTC) of the sweep job, which lists every workload through Resource Graph, reconciles Workloads and requests a scan of each image.')
param sweepCron string = '0 */6 * * *'

@description('Expose the recorder API outside the Container Apps environment (it always requires RECORDER_API_KEY).')
param recorderExternalIngress bool = false

@description('Application (client) ID of an Entra ID app registration: people sign in to the recorder\'s status page with Container Apps\' built-in authentication. Empty: the page takes the recorder key (RECORDER_API_KEY) at its own login form.')
param recorderEntraClientId string = ''

@description('Email address that receives the alerts (infra/modules/alerts.bicep); with alertWebhookUrl empty too, no alert is created.')
param alertEmail string = ''

@secure()
@description('Webhook that receives the alerts (common alert schema); with alertEmail empty too, no alert is created.')
param alertWebhookUrl string = ''

@description('Scan failure rate (percent of the scans in an hour) above which an alert fires.')
@minValue(1)
@maxValue(100)
param scanFailureAlertPercent int = 20

@description('Coverage SLO: percent of running images with a current scan below which an alert fires.')
@minValue(1)
@maxValue(100)
param coverageSloPercent int = 95

param tags object = { application: 'container-image-scanning', environment: environmentName }

// Entity names the services read (defaults in shared/src/config/fields.ts ENTITY_DEFAULTS).
var entities = {
  scanRequestsQueue: 'scan-requests'
  scanRequestsSweepQueue: 'scan-requests-sweep'
  scanCompletedTopic: 'scan-completed'
  recorderSubscription: 'recorder'
  eventHubName: 'activity-log'
  eventHubConsumerGroup: 'ingest'
  checkpointContainer: 'checkpoints'
  scanMetadataTable: 'ScanMetadata'
  scanHistoryTable: 'ScanHistory'
  workloadsTable: 'Workloads'
  notificationsQueue: 'notifications'
}

// Lower case and each once: role assignment and deployment names derive from the IDs, so the same
// subscription written twice, or in another case, would get everything twice.
var monitoredSubscriptions = empty(monitoredSubscriptionIds)
  ? [subscription().subscriptionId]
  : union(map(monitoredSubscriptionIds, id => toLower(id)), [])

// Waiting sweep requests per scanner replica: sweepMaxBacklog of them make sweepMaxReplicas, never less
// than one replica's slots.
var sweepMessageCount = max(scannerConcurrency, (sweepMaxBacklog + sweepMaxReplicas - 1) / sweepMaxReplicas)

// Resource names allow lower case only (Container Apps, storage, registry).
var prefix = toLower(environmentName)
var suffix = take(uniqueString(subscription().id, prefix), 6)
var names = {
  workspace: 'log-${prefix}'
  appInsights: 'appi-${prefix}'
  eventHubs: 'evh-${prefix}-${suffix}'
  serviceBus: 'sb-${prefix}-${suffix}'
  storage: toLower(take('st${replace(prefix, '-', '')}${suffix}', 24))
  vault: 'kv-${prefix}-${suffix}'
  registry: toLower(take('cr${replace(prefix, '-', '')}${suffix}', 50))
  environment: 'cae-${prefix}'
  systemTopic: 'evgt-${prefix}-subscription'
  identities: {
    ingest: 'id-${prefix}-ingest'
    scanner: 'id-${prefix}-scanner'
    recorder: 'id-${prefix}-recorder'
    ingestScale: 'id-${prefix}-ingest-scale'
    scannerScale: 'id-${prefix}-scanner-scale'
    recorderScale: 'id-${prefix}-recorder-scale'
    eventGrid: 'id-${prefix}-eventgrid'
  }
  sweepJob: 'caj-${prefix}-sweep'
  apps: {
    ingest: 'ca-${prefix}-ingest'
    scanner: 'ca-${prefix}-scanner'
    recorder: 'ca-${prefix}-recorder'
  }
}

// Container Apps stops a replica at most 600 s after SIGTERM; the services drain for a little less.
var terminationGraceSeconds = { ingest: 60, scanner: 600, recorder: 60 }
var shutdownGraceSeconds = { ingest: 50, scanner: 570, recorder: 50 }

resource rg 'Microsoft.Resources/resourceGroups@2024-11-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: names.workspace
    appInsightsName: names.appInsights
  }
}

module eventHubs 'modules/eventHubs.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    namespaceName: names.eventHubs
    hubName: entities.eventHubName
    consumerGroupName: entities.eventHubConsumerGroup
    partitionCount: eventHubPartitionCount
    activityLogStream: activityLogStream
  }
}

module serviceBus 'modules/serviceBus.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    namespaceName: names.serviceBus
    queueName: entities.scanRequestsQueue
    sweepQueueName: entities.scanRequestsSweepQueue
    topicName: entities.scanCompletedTopic
    subscriptionName: entities.recorderSubscription
    notificationsQueueName: entities.notificationsQueue
    duplicateDetectionHours: scanCacheHours
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    accountName: names.storage
    checkpointContainerName: entities.checkpointContainer
    tableNames: [entities.scanMetadataTable, entities.scanHistoryTable, entities.workloadsTable]
  }
}

module keyVault 'modules/keyVault.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    vaultName: names.vault
    qualysAccessToken: qualysAccessToken
    recorderApiKey: recorderApiKey
    notifyWebhooks: notifyWebhooks
    notifyWebhookSecret: notifyWebhookSecret
  }
}

module registry 'modules/registry.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    registryName: names.registry
  }
}

module identities 'modules/identities.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    names: names.identities
  }
}

// By key of names.identities: { id, clientId, principalId }.
var identity = toObject(identities.outputs.list, entry => entry.key)

module roles 'modules/roles.bicep' = {
  scope: rg
  params: {
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    queueName: serviceBus.outputs.queueName
    sweepQueueName: serviceBus.outputs.sweepQueueName
    topicName: serviceBus.outputs.topicName
    eventHubsNamespaceName: eventHubs.outputs.namespaceName
    hubName: eventHubs.outputs.hubName
    storageAccountName: names.storage
    checkpointContainerName: storage.outputs.checkpointContainerName
    scanMetadataTableName: entities.scanMetadataTable
    scanHistoryTableName: entities.scanHistoryTable
    workloadsTableName: entities.workloadsTable
    vaultName: keyVault.outputs.vaultName
    qualysTokenSecretName: keyVault.outputs.qualysTokenSecretName
    recorderApiKeySecretName: keyVault.outputs.recorderApiKeySecretName
    notificationsQueueName: serviceBus.outputs.notificationsQueueName
    notifications: notifications
    notifySecretNames: [keyVault.outputs.notifyWebhooksSecretName, keyVault.outputs.notifyWebhookSecretSecretName]
    registryName: registry.outputs.registryName
    principals: {
      ingest: identity.ingest.principalId
      scanner: identity.scanner.principalId
      recorder: identity.recorder.principalId
    }
    scalePrincipals: {
      ingest: identity.ingestScale.principalId
      scanner: identity.scannerScale.principalId
      recorder: identity.recorderScale.principalId
    }
    eventGridPrincipal: identity.eventGrid.principalId
  }
}

// What ingest and its sweep read in every monitored subscription, instead of Reader on all of it. Resource
// Graph answers only with resources the caller can read, so the three read actions are what bounds the sweep.
resource workloadReader 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, prefix, 'container-workload-reader')
  properties: {
    // Role names are unique in the tenant: another installation named the same must not collide.
    roleName: 'Container workload reader (${prefix}-${suffix})'
    description: 'Reads container groups, container apps and jobs, directly or through Resource Graph.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.ContainerInstance/containerGroups/read'
          'Microsoft.App/containerApps/read'
          'Microsoft.App/jobs/read'
          'Microsoft.ResourceGraph/resources/read'
        ]
        notActions: []
      }
    ]
    // The subscription that holds the definition among them, monitored or not.
    assignableScopes: union([subscription().id], map(monitoredSubscriptions, id => '/subscriptions/${id}'))
  }
}

module monitored 'modules/monitoredSubscription.bicep' = [
  for subscriptionId in monitoredSubscriptions: {
    name: '${take(deployment().name, 20)}-watch-${subscriptionId}'
    scope: subscription(subscriptionId)
    // Event Grid validates delivery when the event subscription is created: the hub's sender role must exist.
    dependsOn: [roles]
    params: {
      location: location
      tags: tags
      resourceGroupName: resourceGroupName
      activityLogStream: activityLogStream
      activityLogSettingName: 'activity-log-to-${prefix}'
      eventHubAuthorizationRuleId: eventHubs.outputs.diagnosticsRuleId
      hubId: eventHubs.outputs.hubId
      hubName: eventHubs.outputs.hubName
      systemTopicName: names.systemTopic
      // The name from when it carried writes only: a new name would leave the old subscription behind.
      eventSubscriptionName: 'container-writes-to-${entities.eventHubName}'
      deliveryIdentityId: identity.eventGrid.id
      ingestPrincipalId: identity.ingest.principalId
      scannerPrincipalId: identity.scanner.principalId
      workloadReaderRoleName: workloadReader.name
    }
  }
]

module environment 'modules/containerAppsEnvironment.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    environmentName: names.environment
    workspaceId: monitoring.outputs.workspaceId
  }
}

// Observability in Azure: the services send traces, metrics and logs to Application Insights (its
// connection string from Key Vault); alerts to an action group; the pipeline workbook.
module appInsightsConnection 'modules/appInsightsConnection.bicep' = {
  scope: rg
  params: {
    vaultName: keyVault.outputs.vaultName
    appInsightsName: monitoring.outputs.appInsightsName
    readerPrincipalIds: [identity.ingest.principalId, identity.scanner.principalId, identity.recorder.principalId]
  }
}

// By name, so that `bicep snapshot` resolves the alerts' and the workbook's scopes.
var appInsightsId = resourceId(subscription().subscriptionId, rg.name, 'Microsoft.Insights/components', names.appInsights)
var serviceBusId = resourceId(subscription().subscriptionId, rg.name, 'Microsoft.ServiceBus/namespaces', names.serviceBus)

var telemetrySecrets = [
  {
    name: appInsightsConnection.outputs.secretName
    keyVaultUrl: appInsightsConnection.outputs.secretUrl
    variable: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
  }
]

module alerts 'modules/alerts.bicep' = {
  scope: rg
  dependsOn: [monitoring, serviceBus]
  params: {
    location: location
    tags: tags
    namePrefix: prefix
    appInsightsId: appInsightsId
    serviceBusNamespaceId: serviceBusId
    deadLetterEntities: [entities.scanRequestsQueue, entities.scanCompletedTopic]
    alertEmail: alertEmail
    alertWebhookUrl: alertWebhookUrl
    scanFailureRatePercent: scanFailureAlertPercent
    coverageSloPercent: coverageSloPercent
  }
}

module workbook 'modules/workbook.bicep' = {
  scope: rg
  dependsOn: [monitoring, serviceBus]
  params: {
    location: location
    tags: tags
    displayName: 'Container image scanning (${prefix})'
    appInsightsId: appInsightsId
    serviceBusNamespaceId: serviceBusId
  }
}

// App settings use the names above rather than module outputs so that `bicep snapshot` resolves them and
// infra/test/drift.test.ts can compare them with what the services read. The apps depend on the modules
// that create those resources through `roles`.

// Variables every service reads in Azure: JSON logs, the health port, its identity.
func commonEnv(clientId string, service string, graceSeconds int) { name: string, value: string }[] => [
  { name: 'LOG_FORMAT', value: 'json' }
  { name: 'PORT', value: '8080' }
  { name: 'SHUTDOWN_GRACE_SECONDS', value: string(graceSeconds) }
  { name: 'AZURE_CLIENT_ID', value: clientId }
  { name: 'AZURE_TENANT_ID', value: tenant().tenantId }
  { name: 'OTEL_SERVICE_NAME', value: service }
]

var image = '${registry.outputs.loginServer}/qcs-{0}:${imageTag}'

module ingestApp 'modules/containerApp.bicep' = if (deployApps) {
  scope: rg
  dependsOn: [roles, monitored]
  params: {
    location: location
    tags: tags
    appName: names.apps.ingest
    environmentId: environment.outputs.environmentId
    identityId: identity.ingest.id
    scaleIdentityId: identity.ingestScale.id
    registryServer: registry.outputs.loginServer
    image: format(image, 'ingest')
    cpu: '0.25'
    memory: '0.5Gi'
    // A replica per partition at most: more would own no partition.
    maxReplicas: eventHubPartitionCount
    terminationGracePeriodSeconds: terminationGraceSeconds.ingest
    env: concat(commonEnv(identity.ingest.clientId, 'ingest', shutdownGraceSeconds.ingest), [
      { name: 'EVENTHUBS_NAMESPACE', value: names.eventHubs }
      { name: 'SERVICEBUS_NAMESPACE', value: names.serviceBus }
      { name: 'STORAGE_ACCOUNT_NAME', value: names.storage }
      { name: 'EVENTHUB_NAME', value: entities.eventHubName }
      { name: 'EVENTHUB_CONSUMER_GROUP', value: entities.eventHubConsumerGroup }
      { name: 'CHECKPOINT_CONTAINER', value: entities.checkpointContainer }
      { name: 'SCAN_REQUESTS_QUEUE', value: entities.scanRequestsQueue }
    ])
    keyVaultSecrets: telemetrySecrets
    scaleRules: [
      {
        name: 'unprocessed-events'
        type: 'azure-eventhub'
        metadata: {
          eventHubNamespace: names.eventHubs
          eventHubName: entities.eventHubName
          consumerGroup: entities.eventHubConsumerGroup
          unprocessedEventThreshold: '64'
          activationUnprocessedEventThreshold: '0'
          // @azure/eventhubs-checkpointstore-blob keeps offsets in blob metadata.
          checkpointStrategy: 'blobMetadata'
          blobContainer: entities.checkpointContainer
          storageAccountName: names.storage
        }
      }
    ]
  }
}

// The sweep: ingest's image and identity, its second entry point, on a schedule.
module sweepJob 'modules/sweepJob.bicep' = if (deployApps) {
  scope: rg
  dependsOn: [roles, monitored]
  params: {
    location: location
    tags: tags
    jobName: names.sweepJob
    environmentId: environment.outputs.environmentId
    identityId: identity.ingest.id
    registryServer: registry.outputs.loginServer
    image: format(image, 'ingest')
    cronExpression: sweepCron
    env: concat(commonEnv(identity.ingest.clientId, 'sweep', shutdownGraceSeconds.ingest), [
      { name: 'SERVICEBUS_NAMESPACE', value: names.serviceBus }
      { name: 'STORAGE_ACCOUNT_NAME', value: names.storage }
      { name: 'WORKLOADS_TABLE', value: entities.workloadsTable }
      { name: 'SWEEP_REQUESTS_QUEUE', value: entities.scanRequestsSweepQueue }
      { name: 'SWEEP_SUBSCRIPTIONS', value: join(monitoredSubscriptions, ',') }
    ])
  }
}

module scannerApp 'modules/containerApp.bicep' = if (deployApps) {
  scope: rg
  dependsOn: [roles, monitored]
  params: {
    location: location
    tags: tags
    appName: names.apps.scanner
    environmentId: environment.outputs.environmentId
    identityId: identity.scanner.id
    scaleIdentityId: identity.scannerScale.id
    registryServer: registry.outputs.loginServer
    image: format(image, 'scanner')
    cpu: '1.0'
    memory: '2Gi'
    maxReplicas: scannerMaxReplicas
    terminationGracePeriodSeconds: terminationGraceSeconds.scanner
    env: concat(commonEnv(identity.scanner.clientId, 'scanner', shutdownGraceSeconds.scanner), [
      { name: 'SERVICEBUS_NAMESPACE', value: names.serviceBus }
      { name: 'STORAGE_ACCOUNT_NAME', value: names.storage }
      { name: 'SCAN_REQUESTS_QUEUE', value: entities.scanRequestsQueue }
      { name: 'SCAN_REQUESTS_SWEEP_QUEUE', value: entities.scanRequestsSweepQueue }
      { name: 'SCAN_COMPLETED_TOPIC', value: entities.scanCompletedTopic }
      { name: 'SCAN_METADATA_TABLE', value: entities.scanMetadataTable }
      { name: 'QUALYS_POD', value: qualysPod }
      { name: 'QSCANNER_VERSION', value: qscannerVersion }
      { name: 'SCANNER_CONCURRENCY', value: string(scannerConcurrency) }
      { name: 'SCAN_CACHE_HOURS', value: string(scanCacheHours) }
      { name: 'SCAN_TIMEOUT', value: string(scanTimeoutSeconds) }
    ])
    keyVaultSecrets: concat(telemetrySecrets, [
      { name: 'qualys-access-token', keyVaultUrl: keyVault.outputs.qualysTokenSecretUrl, variable: 'QUALYS_ACCESS_TOKEN' }
    ])
    scaleRules: [
      {
        name: 'scan-requests'
        type: 'azure-servicebus'
        metadata: {
          namespace: names.serviceBus
          queueName: entities.scanRequestsQueue
          // One replica per SCANNER_CONCURRENCY waiting or running requests.
          messageCount: string(scannerConcurrency)
          activationMessageCount: '0'
        }
      }
      {
        // KEDA takes the larger of the two rules' replica counts. This one reaches sweepMaxReplicas only
        // at sweepMaxBacklog waiting sweep requests, so the sweep alone stays within its cap while the
        // rule above gives deployment requests all the replicas they need (each replica serves them first).
        name: 'scan-requests-sweep'
        type: 'azure-servicebus'
        metadata: {
          namespace: names.serviceBus
          queueName: entities.scanRequestsSweepQueue
          messageCount: string(sweepMessageCount)
          activationMessageCount: '0'
        }
      }
    ]
  }
}

module recorderApp 'modules/containerApp.bicep' = if (deployApps) {
  scope: rg
  dependsOn: [roles]
  params: {
    location: location
    tags: tags
    appName: names.apps.recorder
    environmentId: environment.outputs.environmentId
    identityId: identity.recorder.id
    scaleIdentityId: identity.recorderScale.id
    registryServer: registry.outputs.loginServer
    image: format(image, 'recorder')
    cpu: '0.25'
    memory: '0.5Gi'
    maxReplicas: 5
    terminationGracePeriodSeconds: terminationGraceSeconds.recorder
    ingress: { external: recorderExternalIngress, targetPort: 8080 }
    httpConcurrentRequests: 50
    env: concat(commonEnv(identity.recorder.clientId, 'recorder', shutdownGraceSeconds.recorder), [
      { name: 'SERVICEBUS_NAMESPACE', value: names.serviceBus }
      { name: 'STORAGE_ACCOUNT_NAME', value: names.storage }
      { name: 'SCAN_COMPLETED_TOPIC', value: entities.scanCompletedTopic }
      { name: 'RECORDER_SUBSCRIPTION', value: entities.recorderSubscription }
      { name: 'SCAN_METADATA_TABLE', value: entities.scanMetadataTable }
      { name: 'SCAN_HISTORY_TABLE', value: entities.scanHistoryTable }
      { name: 'NOTIFICATIONS_QUEUE', value: entities.notificationsQueue }
      { name: 'WORKLOADS_TABLE', value: entities.workloadsTable }
      { name: 'RECORDER_PAGE_AUTH', value: empty(recorderEntraClientId) ? 'key' : 'entra' }
    ])
    keyVaultSecrets: concat(
      telemetrySecrets,
      [
        { name: 'recorder-api-key', keyVaultUrl: keyVault.outputs.recorderApiKeySecretUrl, variable: 'RECORDER_API_KEY' }
      ],
      notifications
        ? [
            { name: 'notify-webhooks', keyVaultUrl: keyVault.outputs.notifyWebhooksSecretUrl, variable: 'NOTIFY_WEBHOOKS' }
            {
              name: 'notify-webhook-secret'
              keyVaultUrl: keyVault.outputs.notifyWebhookSecretSecretUrl
              variable: 'NOTIFY_WEBHOOK_SECRET'
            }
          ]
        : []
    )
    scaleRules: [
      {
        name: 'scan-completed'
        type: 'azure-servicebus'
        metadata: {
          namespace: names.serviceBus
          topicName: entities.scanCompletedTopic
          subscriptionName: entities.recorderSubscription
          messageCount: '100'
          activationMessageCount: '0'
        }
      }
      {
        // The notifier runs in the recorder: notifications waiting wake it (and add replicas) too.
        name: 'notifications'
        type: 'azure-servicebus'
        metadata: {
          namespace: names.serviceBus
          queueName: entities.notificationsQueue
          messageCount: '20'
          activationMessageCount: '0'
        }
      }
    ]
  }
}

module recorderAuth 'modules/recorderAuth.bicep' = if (deployApps && !empty(recorderEntraClientId)) {
  scope: rg
  params: {
    appName: names.apps.recorder
    clientId: recorderEntraClientId
    tenantId: tenant().tenantId
  }
  dependsOn: [recorderApp]
}

output resourceGroupName string = rg.name
output registryName string = registry.outputs.registryName
output registryLoginServer string = registry.outputs.loginServer
output keyVaultName string = keyVault.outputs.vaultName
output serviceBusNamespace string = serviceBus.outputs.namespaceName
output eventHubsNamespace string = eventHubs.outputs.namespaceName
output storageAccountName string = storage.outputs.accountName
output appInsightsName string = monitoring.outputs.appInsightsName
output appNames { ingest: string, scanner: string, recorder: string } = names.apps
output recorderFqdn string = deployApps ? recorderApp!.outputs.fqdn : ''
