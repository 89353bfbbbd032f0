/**
 * The ARM SDK clients, one set per subscription (both SDKs bind a client to one subscription).
 * In Azure: ARM's endpoint and a managed identity. Locally: the ARM emulator's endpoint, a static
 * token and the emulator's self-signed certificate as the CA to trust. Called from main.ts (and
 * tests) only.
 */
import { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import type { TokenCredential } from "@azure/core-auth";
import type { ArmClients } from "./armLookup.ts";

export interface ArmClientOptions {
  endpoint: string;
  credential: TokenCredential;
  /** PEM of a CA to trust for `endpoint` (the ARM emulator's certificate); default: the system's. */
  ca?: string | undefined;
  /**
   * The SDK pipeline retries throttling (honouring Retry-After), 5xx and network errors with
   * exponential backoff; these bound it.
   */
  retry: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number };
}

export function armClientsFactory(options: ArmClientOptions): (subscriptionId: string) => ArmClients {
  const clientOptions = {
    endpoint: options.endpoint,
    retryOptions: options.retry,
    ...(options.ca ? { tlsOptions: { ca: options.ca } } : {}),
    userAgentOptions: { userAgentPrefix: "qcs-ingest" },
  };
  return (subscriptionId) => {
    const containerInstance = new ContainerInstanceManagementClient(
      options.credential,
      subscriptionId,
      clientOptions,
    );
    const containerApps = new ContainerAppsAPIClient(options.credential, subscriptionId, clientOptions);
    return {
      containerGroups: containerInstance.containerGroups,
      containerApps: containerApps.containerApps,
      jobs: containerApps.jobs,
    };
  };
}

/** A bearer token from configuration, for the local ARM endpoint (never used against Azure). */
export function staticTokenCredential(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
