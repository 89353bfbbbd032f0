// Parameters for main.bicep. deploy.sh exports the values read from the environment below, so the
// secrets never appear on a command line.
using './main.bicep'

param environmentName = readEnvironmentVariable('QCS_ENVIRONMENT', 'qcs')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param qualysPod = readEnvironmentVariable('QUALYS_POD', 'US2')
param qualysAccessToken = readEnvironmentVariable('QUALYS_ACCESS_TOKEN', '')
param recorderApiKey = readEnvironmentVariable('RECORDER_API_KEY', '')
param notifyWebhooks = readEnvironmentVariable('NOTIFY_WEBHOOKS', '')
param notifyWebhookSecret = readEnvironmentVariable('NOTIFY_WEBHOOK_SECRET', '')
param alertEmail = readEnvironmentVariable('QCS_ALERT_EMAIL', '')
param alertWebhookUrl = readEnvironmentVariable('QCS_ALERT_WEBHOOK', '')
param notifications = bool(readEnvironmentVariable('QCS_NOTIFICATIONS', 'false'))
param recorderEntraClientId = readEnvironmentVariable('RECORDER_ENTRA_CLIENT_ID', '')
param imageTag = readEnvironmentVariable('IMAGE_TAG', 'latest')
param deployApps = bool(readEnvironmentVariable('DEPLOY_APPS', 'true'))
param qscannerVersion = readEnvironmentVariable('QSCANNER_VERSION', 'unknown')
param scannerConcurrency = int(readEnvironmentVariable('SCANNER_CONCURRENCY', '2'))
param scanCacheHours = int(readEnvironmentVariable('SCAN_CACHE_HOURS', '24'))
param scanTimeoutSeconds = int(readEnvironmentVariable('SCAN_TIMEOUT', '1800'))
// Comma-separated subscription IDs (deploy.sh --subscriptions); empty monitors the subscription deployed to.
var monitored = readEnvironmentVariable('MONITORED_SUBSCRIPTION_IDS', '')
param monitoredSubscriptionIds = empty(monitored) ? [] : split(monitored, ',')
