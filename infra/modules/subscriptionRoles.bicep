// Subscription-wide roles, needed because the work itself is subscription-wide: ingest looks up any
// container group, container app or job that was deployed (Reader), and the scanner pulls any image those
// run from any registry in the subscription (AcrPull), as the original system did.

targetScope = 'subscription'

import { roleIds } from 'roleDefinitions.bicep'

param ingestPrincipalId string
param scannerPrincipalId string

resource ingestReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, ingestPrincipalId, roleIds.reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.reader)
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
