// Alerts to the people running the pipeline: an action group (email and/or webhook) and five rules.
// Nothing is created while both the email address and the webhook are empty. The log alerts query
// the services' metrics in Application Insights (customMetrics); their KQL is in infra/queries/alerts.

param tags object
param location string

@description('Prefix of the action group and rule names.')
param namePrefix string
param appInsightsId string
param serviceBusNamespaceId string

@description('Entities whose dead letters alert (Service Bus counts a subscription\'s dead letters under its topic).')
param deadLetterEntities string[]

@description('Email address that receives the alerts; empty for none.')
param alertEmail string

@secure()
@description('Webhook (for example a Teams or Slack incoming webhook) that receives the alerts in the common alert schema; empty for none.')
param alertWebhookUrl string

@description('Scan failure rate, in percent of the scans that ran in an hour, above which an alert fires.')
@minValue(1)
@maxValue(100)
param scanFailureRatePercent int

@description('Coverage SLO: the percentage of running images whose latest scan is current, below which an alert fires.')
@minValue(1)
@maxValue(100)
param coverageSloPercent int

var enabled = !empty(alertEmail) || !empty(alertWebhookUrl)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (enabled) {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('${namePrefix}ops', 12)
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [{ name: 'email', emailAddress: alertEmail, useCommonAlertSchema: true }]
    webhookReceivers: empty(alertWebhookUrl)
      ? []
      : [{ name: 'webhook', serviceUri: alertWebhookUrl, useCommonAlertSchema: true }]
  }
}

// Present for 15 minutes: the smallest count in every minute of the window is above zero.
resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = if (enabled) {
  name: '${namePrefix}-dead-letters'
  location: 'global'
  tags: tags
  properties: {
    description: 'Dead-lettered messages have been waiting for 15 minutes. Inspect them with scanctl dlq list / show, then resubmit or purge.'
    severity: 2
    enabled: true
    scopes: [serviceBusNamespaceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'dead-letters-present'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [{ name: 'EntityName', operator: 'Include', values: deadLetterEntities }]
          timeAggregation: 'Minimum'
          operator: 'GreaterThan'
          threshold: 0
        }
      ]
    }
    actions: [{ actionGroupId: actionGroup.id }]
  }
}

// A rule fires when its measure (or, with 'Count', the number of rows) passes the threshold.
var logAlerts = [
  {
    name: 'scan-failure-rate'
    description: 'More than ${scanFailureRatePercent}% of the scans in the last hour failed (retried or dead-lettered). The workbook shows the failure classes; the scanner\'s logs the causes.'
    severity: 2
    query: loadTextContent('../queries/alerts/scan-failure-rate.kql')
    frequency: 'PT15M'
    window: 'PT1H'
    aggregation: 'Maximum'
    measure: 'failureRatePercent'
    threshold: scanFailureRatePercent
  }
  {
    name: 'events-given-up'
    description: 'Ingest gave up on deployment events after its retries: their images were not requested (the next sweep requests them). See ingest\'s logs.'
    severity: 2
    query: loadTextContent('../queries/alerts/events-given-up.kql')
    frequency: 'PT15M'
    window: 'PT15M'
    aggregation: 'Total'
    measure: 'givenUp'
    threshold: 0
  }
  {
    name: 'coverage-below-slo'
    description: 'Fewer than ${coverageSloPercent}% of the running images have a current scan. scanctl coverage lists the images that are stale, failing or never scanned.'
    severity: 3
    query: loadTextContent('../queries/alerts/coverage-below-slo.kql')
    frequency: 'PT1H'
    // The recorder scales to zero between messages: its newest gauges may be hours old.
    window: 'P1D'
    aggregation: 'Minimum'
    measure: 'coveragePercent'
    threshold: coverageSloPercent
  }
  {
    name: 'no-scan-recorded'
    description: 'Scan requests arrived in the last 24 hours but no scan result was recorded. Check the scanner (Qualys token, qscanner) and the recorder.'
    severity: 1
    query: loadTextContent('../queries/alerts/no-scan-recorded.kql')
    frequency: 'PT1H'
    window: 'P1D'
    aggregation: 'Count'
    measure: null
    threshold: 0
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in logAlerts: if (enabled) {
    name: '${namePrefix}-${alert.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: '${namePrefix}-${alert.name}'
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [appInsightsId]
      evaluationFrequency: alert.frequency
      windowSize: alert.window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.aggregation
            metricMeasureColumn: alert.measure
            operator: alert.name == 'coverage-below-slo' ? 'LessThan' : 'GreaterThan'
            threshold: alert.threshold
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      actions: { actionGroups: [actionGroup.id] }
    }
  }
]
