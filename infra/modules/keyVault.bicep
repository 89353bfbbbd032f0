// Key Vault (RBAC mode) holding the Qualys access token, the recorder's API key and its notification
// webhooks (URLs carry their key) and signing secret. A secret is written
// only when a value is given, so a redeployment without the values keeps the ones already stored.

param location string
param tags object
param vaultName string

@secure()
param qualysAccessToken string

@secure()
param recorderApiKey string

@secure()
param notifyWebhooks string

@secure()
param notifyWebhookSecret string

var qualysTokenSecretName = 'qualys-access-token'
var recorderApiKeySecretName = 'recorder-api-key'
var notifyWebhooksSecretName = 'notify-webhooks'
var notifyWebhookSecretSecretName = 'notify-webhook-secret'

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // A deleted vault (and secret) can be recovered but not purged before the 7 days are over, so nobody
    // who gets delete rights can destroy the Qualys token for good. Once on, it cannot be turned off.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource qualysToken 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(qualysAccessToken)) {
  parent: vault
  name: qualysTokenSecretName
  properties: { value: qualysAccessToken, contentType: 'text/plain' }
}

resource apiKey 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(recorderApiKey)) {
  parent: vault
  name: recorderApiKeySecretName
  properties: { value: recorderApiKey, contentType: 'text/plain' }
}

resource webhooks 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(notifyWebhooks)) {
  parent: vault
  name: notifyWebhooksSecretName
  properties: { value: notifyWebhooks, contentType: 'text/plain' }
}

resource webhookSecret 'Microsoft.KeyVault/vaults/secrets@2026-02-01' = if (!empty(notifyWebhookSecret)) {
  parent: vault
  name: notifyWebhookSecretSecretName
  properties: { value: notifyWebhookSecret, contentType: 'text/plain' }
}

output vaultName string = vault.name
output qualysTokenSecretName string = qualysTokenSecretName
output recorderApiKeySecretName string = recorderApiKeySecretName
// Versionless secret URLs: Container Apps picks up a rotated value without a redeployment.
output qualysTokenSecretUrl string = '${vault.properties.vaultUri}secrets/${qualysTokenSecretName}'
output recorderApiKeySecretUrl string = '${vault.properties.vaultUri}secrets/${recorderApiKeySecretName}'
output notifyWebhooksSecretName string = notifyWebhooksSecretName
output notifyWebhookSecretSecretName string = notifyWebhookSecretSecretName
output notifyWebhooksSecretUrl string = '${vault.properties.vaultUri}secrets/${notifyWebhooksSecretName}'
output notifyWebhookSecretSecretUrl string = '${vault.properties.vaultUri}secrets/${notifyWebhookSecretSecretName}'
