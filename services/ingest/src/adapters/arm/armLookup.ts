/**
 * Looks a deployed resource up in ARM through the official SDKs and returns its containers and
 * init containers. Retries of throttling (Retry-After) and 5xx happen inside the SDK pipeline;
 * what still fails is classified so the core can skip (deleted, rejected) or replay (transient).
 * Each lookup has its own deadline and nothing is shared between lookups but the clients, so a
 * slow resource delays only the batch that needs it.
 *
 * The containers are read from the response document as ARM sent it, validated here: the SDKs'
 * deserializers do not check types (`"image": 123` comes through as a number), turn some malformed
 * shapes into plausible ones (`"containers": "x"` into one nameless container, `"properties": "x"`
 * into none) and throw on others. A document of the wrong shape is `invalid-arm-document`, not retried.
 */
import type { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import type { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import { redactSecrets } from "@qcs/shared";
import { z } from "zod";
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
      let response: { status: number; bodyAsText?: string | null } | undefined;
      const request = { abortSignal, onResponse: (raw: typeof response) => (response = raw) };
      try {
        if (target.kind === "aci") await arm.containerGroups.get(target.resourceGroup, target.name, request);
        else if (target.kind === "aca")
          await arm.containerApps.get(target.resourceGroup, target.name, request);
        else await arm.jobs.get(target.resourceGroup, target.name, request);
      } catch (error) {
        if (signal.aborted) return failed("aborted", true, "stopped while looking the resource up");
        if (deadline.aborted) return failed("timeout", true, `no answer within ${options.timeoutMs} ms`);
        // After a 2xx, only the SDK's deserializer can have thrown: the document decides.
        if (response === undefined || response.status < 200 || response.status > 299) return classify(error);
      }
      return documentOf(target, response?.bodyAsText);
    },
  };
}

const optionalText = z.string().nullish();
const list = <T extends z.ZodType>(item: T) => z.array(item).nullish();
// ACI nests each container's settings under `properties`; Container Apps and jobs do not.
const aciContainer = z.object({ name: optionalText, properties: z.object({ image: optionalText }) });
const containerGroup = z.object({
  id: optionalText,
  properties: z.object({ containers: list(aciContainer), initContainers: list(aciContainer) }),
});
const appContainer = z.object({ name: optionalText, image: optionalText });
const appOrJob = z.object({
  id: optionalText,
  properties: z.object({
    template: z.object({ containers: list(appContainer), initContainers: list(appContainer) }).nullish(),
  }),
});

function documentOf(target: Target, body: string | null | undefined): LookupResult {
  let document: unknown;
  try {
    document = JSON.parse(body ?? "");
  } catch {
    return failed("invalid-arm-document", false, "the response is not JSON");
  }
  return deployedResourceOf(target, document);
}

/**
 * The containers of an ARM document (a GET's body, or a Resource Graph row, which has the same
 * `id` and `properties`); `target` gives the kind and the ID to use when the document has none.
 */
export function deployedResourceOf(
  target: Pick<Target, "kind" | "resourceId">,
  document: unknown,
): LookupResult {
  if (target.kind === "aci") {
    const parsed = containerGroup.safeParse(document);
    if (!parsed.success) return invalid(parsed.error);
    const { id, properties } = parsed.data;
    return found(id ?? target.resourceId, [
      ...(properties.initContainers ?? []).map((c) => container(c.name, c.properties.image, true)),
      ...(properties.containers ?? []).map((c) => container(c.name, c.properties.image, false)),
    ]);
  }
  const parsed = appOrJob.safeParse(document);
  if (!parsed.success) return invalid(parsed.error);
  const { id, properties } = parsed.data;
  return found(id ?? target.resourceId, [
    ...(properties.template?.initContainers ?? []).map((c) => container(c.name, c.image, true)),
    ...(properties.template?.containers ?? []).map((c) => container(c.name, c.image, false)),
  ]);
}

function invalid(error: z.ZodError): LookupResult {
  const issues = error.issues.slice(0, 3).map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  return failed("invalid-arm-document", false, issues.join("; "));
}

function container(
  name: string | null | undefined,
  image: string | null | undefined,
  init: boolean,
): DeployedContainer {
  return { name: name ?? "", image: image ?? undefined, init };
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
  // Redact before cutting: a secret cut in half no longer matches.
  const text = redactSecrets(String(message ?? error)).slice(0, 500);
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
