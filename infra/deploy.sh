#!/usr/bin/env bash
# Builds the three service images in the deployment's own container registry (az acr build: no local
# Docker needed) and deploys infra/main.bicep to the current Azure subscription. See README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: infra/deploy.sh [options]

Deploys the scanning pipeline to the subscription `az account show` names, watching container
deployments in that subscription or in those --subscriptions lists:
  1. infrastructure without the apps (registry, messaging, storage, Key Vault, identities, roles, ...)
  2. the images ingest, scanner and recorder, built in that registry and tagged with the git commit
  3. everything, now with the three Container Apps

Options:
  --what-if            show what the deployment would change, change nothing, build nothing
  --image-tag TAG      deploy images already in the registry under TAG (no build): how to roll back
  --keep-secrets       keep the Qualys token and recorder API key already in Key Vault
  --environment NAME   installation name, prefix of every resource (default: $QCS_ENVIRONMENT or qcs)
  --location REGION    Azure region (default: $AZURE_LOCATION or westeurope)
  --subscriptions IDS  subscriptions to monitor, comma-separated IDs of this tenant (default:
                       $MONITORED_SUBSCRIPTION_IDS or the subscription deployed to); you need Owner on each
  -h, --help           this text

Environment:
  QUALYS_POD                    Qualys platform, e.g. US2 (required)
  QUALYS_ACCESS_TOKEN           Qualys token, or QUALYS_ACCESS_TOKEN_FILE naming a file that holds it
                                (required unless --keep-secrets or --what-if)
  RECORDER_API_KEY              bearer key for the recorder API (generated when unset)
  RECORDER_ENTRA_CLIENT_ID      Entra ID app registration for signing in to the status page (optional;
                                unset: the page takes RECORDER_API_KEY at its login form)
  QSCANNER_VERSION              qscanner version baked into the scanner image (required to build)
  QSCANNER_URL, QSCANNER_SHA256 its download link and the tarball's sha256 (required to build)
  SCANNER_CONCURRENCY, SCAN_CACHE_HOURS, SCAN_TIMEOUT   optional, see infra/main.bicep

Secrets are passed through the environment to the Bicep parameters file, never on a command line.
EOF
}

die() {
  echo "deploy.sh: $*" >&2
  exit 1
}

what_if=false keep_secrets=false image_tag=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --what-if) what_if=true ;;
    --keep-secrets) keep_secrets=true ;;
    --image-tag) image_tag="${2:?--image-tag needs a tag}"; shift ;;
    --environment) export QCS_ENVIRONMENT="${2:?--environment needs a name}"; shift ;;
    --location) export AZURE_LOCATION="${2:?--location needs a region}"; shift ;;
    --subscriptions) MONITORED_SUBSCRIPTION_IDS="${2:?--subscriptions needs comma-separated subscription IDs}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

# The array expansions are spelled for bash 3.2 (macOS), where an empty array is unbound under set -u.
monitored="${MONITORED_SUBSCRIPTION_IDS:-}"
IFS=, read -ra monitored_ids <<<"$monitored"
for id in ${monitored_ids[@]+"${monitored_ids[@]}"}; do
  [[ "$id" =~ ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$ ]] ||
    die "not a subscription ID: '$id' (--subscriptions takes IDs, comma-separated, no spaces)"
done

cd "$(dirname "$0")/.."
command -v az >/dev/null || die "az (Azure CLI 2.61 or newer) is required: https://aka.ms/azure-cli"
command -v git >/dev/null || die "git is required (images are tagged with the commit)"
az account show --output none 2>/dev/null || die "not signed in to Azure: run az login (and az account set --subscription ...)"

for id in ${monitored_ids[@]+"${monitored_ids[@]}"}; do
  az account show --subscription "$id" --output none 2>/dev/null ||
    die "cannot see subscription $id with this az login (the deployment needs Owner there)"
done
# Empty: main.bicep monitors the subscription it is deployed to.
export MONITORED_SUBSCRIPTION_IDS="$monitored"

export QCS_ENVIRONMENT="${QCS_ENVIRONMENT:-qcs}" AZURE_LOCATION="${AZURE_LOCATION:-westeurope}"
[[ -n "${QUALYS_POD:-}" ]] || die "set QUALYS_POD (for example US2)"
export QUALYS_POD

if [[ -n "${QUALYS_ACCESS_TOKEN_FILE:-}" ]]; then
  [[ -r "$QUALYS_ACCESS_TOKEN_FILE" ]] || die "cannot read QUALYS_ACCESS_TOKEN_FILE=$QUALYS_ACCESS_TOKEN_FILE"
  QUALYS_ACCESS_TOKEN="$(<"$QUALYS_ACCESS_TOKEN_FILE")"
fi
if [[ "$keep_secrets" == true ]]; then
  QUALYS_ACCESS_TOKEN="" RECORDER_API_KEY=""
elif [[ "$what_if" == false ]]; then
  [[ -n "${QUALYS_ACCESS_TOKEN:-}" ]] || die "set QUALYS_ACCESS_TOKEN or QUALYS_ACCESS_TOKEN_FILE (or pass --keep-secrets)"
  if [[ -z "${RECORDER_API_KEY:-}" ]]; then
    RECORDER_API_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    echo "deploy.sh: generated a recorder API key; it is stored in Key Vault as secret recorder-api-key"
  fi
fi
export QUALYS_ACCESS_TOKEN="${QUALYS_ACCESS_TOKEN:-}" RECORDER_API_KEY="${RECORDER_API_KEY:-}"

build=true
if [[ -n "$image_tag" ]]; then
  build=false
else
  image_tag="$(git rev-parse --short=12 HEAD)"
  if [[ -n "$(git status --porcelain)" ]]; then
    image_tag="${image_tag}-dirty-$(date -u +%Y%m%d%H%M%S)"
    echo "deploy.sh: the work tree has uncommitted changes; tagging the images $image_tag" >&2
  fi
fi
export IMAGE_TAG="$image_tag" QSCANNER_VERSION="${QSCANNER_VERSION:-unknown}"
deployment="qcs-${QCS_ENVIRONMENT}"

deploy() { # deploy <apps: true|false> <az deployment sub verb> [extra az args...]
  local apps="$1" verb="$2"
  shift 2
  DEPLOY_APPS="$apps" az deployment sub "$verb" \
    --name "$deployment" --location "$AZURE_LOCATION" \
    --parameters infra/main.bicepparam "$@"
}

if [[ "$what_if" == true ]]; then
  deploy true what-if --result-format FullResourcePayloads
  exit 0
fi

echo "==> 1/3 infrastructure (without the apps) in $AZURE_LOCATION, installation $QCS_ENVIRONMENT"
deploy false create --output none
output() { az deployment sub show --name "$deployment" --query "properties.outputs.$1.value" --output tsv; }
registry="$(output registryName)"
resource_group="$(output resourceGroupName)"
[[ -n "$registry" ]] || die "the deployment returned no registry name"

if [[ "$build" == true ]]; then
  echo "==> 2/3 images qcs-{ingest,scanner,recorder}:$IMAGE_TAG in $registry"
  [[ -n "${QSCANNER_URL:-}" && -n "${QSCANNER_SHA256:-}" && "$QSCANNER_VERSION" != unknown ]] ||
    die "set QSCANNER_VERSION, QSCANNER_URL and QSCANNER_SHA256 to build the scanner image"
  for service in ingest recorder; do
    az acr build --registry "$registry" --image "qcs-$service:$IMAGE_TAG" --target "$service" \
      --file Dockerfile --platform linux/amd64 .
  done
  az acr build --registry "$registry" --image "qcs-scanner:$IMAGE_TAG" --target scanner \
    --file Dockerfile --platform linux/amd64 \
    --build-arg "QSCANNER_VERSION=$QSCANNER_VERSION" \
    --build-arg "QSCANNER_URL=$QSCANNER_URL" \
    --build-arg "QSCANNER_SHA256=$QSCANNER_SHA256" .
else
  echo "==> 2/3 using the images already tagged $IMAGE_TAG in $registry"
  for service in ingest scanner recorder; do
    az acr repository show --name "$registry" --image "qcs-$service:$IMAGE_TAG" --output none ||
      die "no image qcs-$service:$IMAGE_TAG in $registry"
  done
fi

echo "==> 3/3 the Container Apps"
if ! deploy true create --output none; then
  # Role assignments made in step 1 can take minutes to reach the registry and Key Vault.
  retry="${QCS_DEPLOY_RETRY_SECONDS:-90}"
  echo "deploy.sh: the apps failed to deploy; retrying once in $retry s (new roles can take minutes to apply)" >&2
  sleep "$retry"
  deploy true create --output none
fi
cat <<EOF

Deployed $IMAGE_TAG to resource group $resource_group. Next:
  az containerapp list --resource-group $resource_group --output table
  az containerapp logs show --resource-group $resource_group --name ca-$QCS_ENVIRONMENT-scanner --follow
See README.md, "Verifying a deployment".
EOF
