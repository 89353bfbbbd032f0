// The sweep as a scheduled Container Apps job: ingest's image and identity with the sweep entry point.
// One replica per run, no parallel runs (a sweep reconciles whole partitions), no retry inside a run:
// the next schedule starts over. Start one by hand: az containerapp job start -n <jobName> -g <group>.

param location string
param tags object
param jobName string
param environmentId string
param identityId string
param registryServer string
param image string

@description('Cron expression (UTC) of the schedule trigger.')
param cronExpression string

@description('Plain environment variables: { name, value }.')
param env { name: string, value: string }[]

@description('Seconds a run may take before Container Apps stops it.')
param replicaTimeout int = 3600

resource job 'Microsoft.App/jobs@2025-07-01' = {
  name: jobName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: replicaTimeout
      replicaRetryLimit: 0
      scheduleTriggerConfig: {
        cronExpression: cronExpression
        parallelism: 1
        replicaCompletionCount: 1
      }
      registries: [{ server: registryServer, identity: identityId }]
    }
    template: {
      containers: [
        {
          name: 'sweep'
          image: image
          command: ['node', 'services/ingest/src/sweep.ts']
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: env
        }
      ]
    }
  }
}

output name string = job.name
