// The pipeline on one page (infra/workbooks/pipeline.workbook.json): requests, scans by outcome and
// failure class, time from request to record, backlog and dead letters, coverage. Each query item
// names its KQL file in infra/queries/workbook, filled in here.

param location string
param tags object
param displayName string
param appInsightsId string
param serviceBusNamespaceId string

var template = loadJsonContent('../workbooks/pipeline.workbook.json')
var queries = {
  requests: loadTextContent('../queries/workbook/requests.kql')
  scansByOutcome: loadTextContent('../queries/workbook/scans-by-outcome.kql')
  failuresByClass: loadTextContent('../queries/workbook/failures-by-class.kql')
  scanDuration: loadTextContent('../queries/workbook/scan-duration.kql')
  eventToRecordLatency: loadTextContent('../queries/workbook/event-to-record-latency.kql')
  coverage: loadTextContent('../queries/workbook/coverage.kql')
}
var items = map(
  template.items,
  item => item.type == 3 ? union(item, { content: union(item.content, { query: queries[item.content.query] }) }) : item
)
var serialized = replace(
  replace(string(union(template, { items: items })), '__APP_INSIGHTS_ID__', appInsightsId),
  '__SERVICE_BUS_ID__',
  serviceBusNamespaceId
)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name is a GUID; this one is stable per resource group.
  name: guid(resourceGroup().id, 'qcs-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: serialized
  }
}

output workbookId string = workbook.id
