// Container Apps' built-in authentication in front of the recorder: people sign in with Microsoft Entra
// ID (the app registration given) before the status page answers. Anonymous requests still reach the
// app, so /api/* keeps its bearer key (scanctl) and the probes stay open; the recorder itself sends a
// visitor of the page without a signed-in identity to /.auth/login/aad (RECORDER_PAGE_AUTH=entra). The
// platform sets X-MS-CLIENT-PRINCIPAL-* for a signed-in person and drops any copy a client sends.

param appName string

@description('Application (client) ID of the Entra ID app registration; its redirect URI is https://<recorder FQDN>/.auth/login/aad/callback, with ID tokens enabled.')
param clientId string

@description('Tenant whose accounts may sign in.')
param tenantId string

resource app 'Microsoft.App/containerApps@2025-07-01' existing = {
  name: appName
}

resource auth 'Microsoft.App/containerApps/authConfigs@2025-07-01' = {
  parent: app
  name: 'current'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      // The page decides (a redirect to the login); the API and the probes answer without a session.
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
        }
        validation: { allowedAudiences: [ 'api://${clientId}', clientId ] }
      }
    }
  }
}
