// User-assigned identities, one per key of `names`: each service's own, each KEDA scale rule's own and
// Event Grid's delivery identity, so each holds only the roles its own work needs.

param location string
param tags object
param names { *: string }

var entries = items(names)

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = [
  for entry in entries: {
    name: entry.value
    location: location
    tags: tags
  }
]

output list { key: string, id: string, clientId: string, principalId: string }[] = [
  for (entry, i) in entries: {
    key: entry.key
    id: identity[i].id
    clientId: identity[i].properties.clientId
    principalId: identity[i].properties.principalId
  }
]
