/**
 * Looks a deployed resource up in ARM through the official SDKs and returns its containers and
 * init containers. Retries of throttling (Retry-After) and 5xx happen inside the SDK pipeline;
 * what still fails is classified so the core can skip (deleted, rejected) or replay (transient).
 * Each lookup has its own deadline and nothing is shared between lookups but the clients, so a
 * slow resource delays only the batch that needs it.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import type { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import type {
  DeployedContainer,
  LookupFailureKind,
  LookupResult,
  ResourceLookup,
} from "../../core/lookup.ts";
import type { Target } from "../../core/select.ts";

export interface ArmClients {
  containerGroups: Pick<ContainerInstanceManagementClient["containerGroups"], "get">;
  containerApps: Pick<ContainerAppsAPIClient["containerApps"], "get">;
  jobs: Pick<ContainerAppsAPIClient["jobs"], "get">;
}

export interface ArmLookupOptions {
  clientsFor: (subscriptionId: string) => ArmClients;
  /** Deadline of one lookup, the SDK's retries included. */
  timeoutMs: number;
}

export function armLookup(options: ArmLookupOptions): ResourceLookup {
  const clients = new Map<string, ArmClients>();
  const clientsFor = (subscriptionId: string) => {
    let found = clients.get(subscriptionId);
    if (!found) {
      found = options.clientsFor(subscriptionId);
      clients.set(subscriptionId, found);
    }
    return found;
  };

  return {
    async lookup(target: Target, signal: AbortSignal): Promise<LookupResult> {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const abortSignal = AbortSignal.any([signal, deadline]);
      const arm = clientsFor(target.subscriptionId);
      try {
        if (target.kind === "aci") {
          const group = await arm.containerGroups.get(target.resourceGroup, target.name, { abortSignal });
          return found(group.id ?? target.resourceId, [
            ...(group.initContainers ?? []).map((c) => container(c.name, c.image, true)),
            ...(group.containers ?? []).map((c) => container(c.name, c.image, false)),
          ]);
        }
        const resource =
          target.kind === "aca"
            ? await arm.containerApps.get(target.resourceGroup, target.name, { abortSignal })
            : await arm.jobs.get(target.resourceGroup, target.name, { abortSignal });
        return found(resource.id ?? target.resourceId, [
          ...(resource.template?.initContainers ?? []).map((c) => container(c.name, c.image, true)),
          ...(resource.template?.containers ?? []).map((c) => container(c.name, c.image, false)),
        ]);
      } catch (error) {
        if (signal.aborted) return failed("aborted", true, "stopped while looking the resource up");
        if (deadline.aborted) return failed("timeout", true, `no answer within ${options.timeoutMs} ms`);
        return classify(error);
      }
    },
  };
}

function container(name: string | undefined, image: string | undefined, init: boolean): DeployedContainer {
  return { name: name ?? "", image, init };
}

function found(id: string, containers: DeployedContainer[]): LookupResult {
  return { status: "found", resource: { id, containers } };
}

function failed(kind: LookupFailureKind, retryable: boolean, message: string): LookupResult {
  return { status: "failed", kind, retryable, message };
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EPIPE"]);

/** What an SDK error means for the events behind the lookup. */
function classify(error: unknown): LookupResult {
  const { name, message, statusCode, code } = error as {
    name?: string;
    message?: string;
    statusCode?: number;
    code?: string;
  };
  const text = String(message ?? error).slice(0, 500);
  if (name === "RestError" && typeof statusCode === "number") {
    if (statusCode === 404) return failed("not-found", false, text);
    if (statusCode === 429) return failed("throttled", true, text);
    if (statusCode >= 500) return failed("server-error", true, text);
    // Missing role assignments or credentials get fixed; the events must still be there then.
    if (statusCode === 401 || statusCode === 403) return failed("unauthorized", true, text);
    return failed("rejected", false, text);
  }
  if (code !== undefined && NETWORK_CODES.has(code)) return failed("network", true, text);
  if (name === "RestError") return failed("network", true, text);
  if (name?.includes("Credential") || name?.includes("Authentication"))
    return failed("unauthorized", true, text);
  return failed("unexpected", true, text);
}
