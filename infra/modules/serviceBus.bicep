// Service Bus Standard (Basic has no topics and no duplicate detection): queues "scan-requests"
// (deployments, people), "scan-requests-sweep" (the sweep; same settings, its own dead-letter queue) and
// "notifications" (the recorder's webhook deliveries), topic "scan-completed" with subscription "recorder".
// Settings mirror emulators/config/servicebus/Config.json.

param location string
param tags object
param namespaceName string
param queueName string
param sweepQueueName string
param topicName string
param subscriptionName string
param notificationsQueueName string

@description('Duplicate-detection window of the queue and the topic, in hours: the scan cache (SCAN_CACHE_HOURS), at most 7 days.')
@minValue(1)
@maxValue(168)
param duplicateDetectionHours int

@description('Peek-lock duration; the scanner renews the lock for as long as a scan runs.')
param lockDuration string = 'PT1M'

@description('Deliveries before the broker dead-letters a message with MaxDeliveryCountExceeded.')
@minValue(1)
param maxDeliveryCount int = 5

@description('Time to live of a scan request; an expired one is dead-lettered (TTLExpiredException).')
param requestTimeToLive string = 'P1D'

@description('Time to live of a scan result waiting for the recorder.')
param resultTimeToLive string = 'P7D'

resource namespace 'Microsoft.ServiceBus/namespaces@2026-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    minimumTlsVersion: '1.2'
    disableLocalAuth: true
  }
}

var requestQueueProperties = {
  requiresDuplicateDetection: true
  duplicateDetectionHistoryTimeWindow: 'PT${duplicateDetectionHours}H'
  lockDuration: lockDuration
  maxDeliveryCount: maxDeliveryCount
  deadLetteringOnMessageExpiration: true
  defaultMessageTimeToLive: requestTimeToLive
  requiresSession: false
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = {
  parent: namespace
  name: queueName
  properties: requestQueueProperties
}

resource sweepQueue 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = {
  parent: namespace
  name: sweepQueueName
  properties: requestQueueProperties
}

// Notifications the recorder decided, for its notifier; messageId = scan ID + type, so a result
// handled again decides the same notification and the queue drops it.
resource notificationsQueue 'Microsoft.ServiceBus/namespaces/queues@2026-01-01' = {
  parent: namespace
  name: notificationsQueueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT24H'
    lockDuration: lockDuration
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: resultTimeToLive
    requiresSession: false
  }
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2026-01-01' = {
  parent: namespace
  name: topicName
  properties: {
    // A result is published once per scanId (its messageId); a retried publish must not record twice.
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT${duplicateDetectionHours}H'
    defaultMessageTimeToLive: resultTimeToLive
  }
}

resource subscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2026-01-01' = {
  parent: topic
  name: subscriptionName
  properties: {
    lockDuration: lockDuration
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: resultTimeToLive
    requiresSession: false
  }
}

output namespaceName string = namespace.name
output queueName string = queue.name
output notificationsQueueName string = notificationsQueue.name
output sweepQueueName string = sweepQueue.name
output topicName string = topic.name
output subscriptionName string = subscription.name
