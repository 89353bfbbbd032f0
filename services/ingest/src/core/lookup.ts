/**
 * The port through which the core reads a deployed resource's containers from ARM, and the
 * outcomes it distinguishes. A resource that no longer exists is an answer, not a failure to
 * retry; throttling, server errors and timeouts are retried by replaying the events.
 */
import type { Target } from "./select.ts";

export interface DeployedContainer {
  name: string;
  /** The image string as ARM stores it; undefined when the resource has none. */
  image: string | undefined;
  init: boolean;
}

export interface DeployedResource {
  /** The resource ID as ARM returns it (ARM's casing). */
  id: string;
  containers: DeployedContainer[];
}

export const LOOKUP_FAILURE_KINDS = [
  "not-found",
  "throttled",
  "server-error",
  "timeout",
  "network",
  "unauthorized",
  "rejected",
  "invalid-arm-document",
  "aborted",
  "unexpected",
] as const;
export type LookupFailureKind = (typeof LOOKUP_FAILURE_KINDS)[number];

export type LookupResult =
  | { status: "found"; resource: DeployedResource }
  | { status: "failed"; kind: LookupFailureKind; retryable: boolean; message: string };

export interface ResourceLookup {
  lookup(target: Target, signal: AbortSignal): Promise<LookupResult>;
}
