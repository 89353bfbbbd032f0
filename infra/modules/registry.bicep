// Container registry for the three service images; pulled by the apps with their managed identities.

param location string
param tags object
param registryName string

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: registryName
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

output registryName string = registry.name
output loginServer string = registry.properties.loginServer
