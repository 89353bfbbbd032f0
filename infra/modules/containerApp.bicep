// One service as a Container App: its own user-assigned identity (image pull, Key Vault secret references
// and the app's own Azure SDK calls), a second one for its KEDA scale rules only, probes on /healthz and
// /readyz, scale to zero.

param location string
param tags object
param appName string
param environmentId string
param identityId string

@description('Identity the KEDA scale rules authenticate with. Assigned to the app for the platform only (lifecycle None): the app\'s code cannot get a token for it.')
param scaleIdentityId string
param registryServer string
param image string

@description('Plain environment variables: { name, value }.')
param env { name: string, value: string }[]

@description('Key Vault secret references, exposed to the app as environment variables.')
param keyVaultSecrets { name: string, keyVaultUrl: string, variable: string }[] = []

@description('KEDA scale rules (custom type); each authenticates with scaleIdentityId.')
param scaleRules { name: string, type: string, metadata: object }[]

@description('Extra HTTP scale rule (apps with ingress only): concurrent requests per replica.')
param httpConcurrentRequests int = 0

param maxReplicas int
param cpu string
param memory string

@description('Seconds between SIGTERM and SIGKILL when a replica is stopped (Container Apps allows up to 600).')
@maxValue(600)
param terminationGracePeriodSeconds int

@description('Ingress for the HTTP API, or none.')
param ingress { external: bool, targetPort: int }?

param port int = 8080

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {}, '${scaleIdentityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      // Non-HTTP scale rules need a single active revision.
      activeRevisionsMode: 'Single'
      // Every identity of an app is available to its containers unless told otherwise; the scale rules'
      // identity holds rights (Service Bus Manage) the service itself must not have.
      identitySettings: [{ identity: scaleIdentityId, lifecycle: 'None' }]
      registries: [{ server: registryServer, identity: identityId }]
      secrets: [for secret in keyVaultSecrets: { name: secret.name, keyVaultUrl: secret.keyVaultUrl, identity: identityId }]
      ingress: ingress == null
        ? null
        : {
            external: ingress!.external
            targetPort: ingress!.targetPort
            transport: 'http'
            allowInsecure: false
          }
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: appName
          image: image
          resources: { cpu: json(cpu), memory: memory }
          env: concat(env, map(keyVaultSecrets, secret => { name: secret.variable, secretRef: secret.name }))
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: port }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: port }
              periodSeconds: 2
              failureThreshold: 30
            }
          ]
        }
      ]
      scale: {
        minReplicas: 0
        maxReplicas: maxReplicas
        rules: concat(
          map(scaleRules, rule => {
            name: rule.name
            custom: { type: rule.type, metadata: rule.metadata, identity: scaleIdentityId }
          }),
          httpConcurrentRequests > 0
            ? [{ name: 'http', http: { metadata: { concurrentRequests: string(httpConcurrentRequests) } } }]
            : []
        )
      }
    }
  }
}

output name string = app.name
output fqdn string = ingress == null ? '' : app.properties.configuration.ingress.fqdn
