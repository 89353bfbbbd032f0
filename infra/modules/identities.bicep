// One user-assigned identity per service, so each gets only the roles its own work needs.

param location string
param tags object
param names { ingest: string, scanner: string, recorder: string }

resource ingest 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.ingest
  location: location
  tags: tags
}

resource scanner 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.scanner
  location: location
  tags: tags
}

resource recorder 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.recorder
  location: location
  tags: tags
}

output ingest { id: string, clientId: string, principalId: string } = {
  id: ingest.id
  clientId: ingest.properties.clientId
  principalId: ingest.properties.principalId
}
output scanner { id: string, clientId: string, principalId: string } = {
  id: scanner.id
  clientId: scanner.properties.clientId
  principalId: scanner.properties.principalId
}
output recorder { id: string, clientId: string, principalId: string } = {
  id: recorder.id
  clientId: recorder.properties.clientId
  principalId: recorder.properties.principalId
}
