/**
 * One sweep, start to finish, over clients built by the caller (the sweep job, `scanctl sweep`,
 * tests): list every workload through Resource Graph, reconcile the swept subscriptions' partitions
 * of `Workloads`, then send one request per distinct image at a bounded rate. Throws on the first
 * failure: a sweep either completes or says why not, and the next one starts over.
 */
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TableClient } from "@azure/data-tables";
import type { Logger } from "@qcs/shared";
import { deployedResourceOf } from "./adapters/arm/armLookup.ts";
import { listWorkloadsInGraph } from "./adapters/arm/resourceGraphListing.ts";
import {
  listWorkloadKeys,
  markSweepFinished,
  submitWorkloadActions,
} from "./adapters/tables/workloadTable.ts";
import type { ScanRequestMessage, ScanRequestSink } from "./core/batchProcessor.ts";
import type { Exclusions } from "./core/exclusions.ts";
import { kindOfType, parseResourceId } from "./core/resourceId.ts";
import { planReconciliation, sweepRequests } from "./core/sweep.ts";
import { type WorkloadRow, workloadRowOf } from "./core/workloads.ts";

export interface SweepPorts {
  graph: ResourceGraphClient;
  table: TableClient;
  requests: ScanRequestSink;
}

export interface SweepOptions {
  /** Lower-cased subscription IDs; empty: every subscription the identity can read. */
  subscriptions: readonly string[];
  pageSize: number;
  requestsPerSecond: number;
  exclusions: Exclusions;
  /** List and plan only: nothing written, nothing sent. */
  dryRun: boolean;
  logger: Logger;
  /** Default: a random UUID. */
  runId?: string;
}

export interface SweepSummary {
  runId: string;
  dryRun: boolean;
  /** The subscriptions whose rows were reconciled. */
  subscriptions: string[];
  pages: number;
  workloads: number;
  /** Rows Resource Graph returned that are not readable workloads, or excluded. */
  skipped: number;
  images: number;
  inserted: number;
  updated: number;
  deleted: number;
  requestsSent: number;
  requestsRejected: number;
  durationMs: number;
}

export async function runSweep(ports: SweepPorts, options: SweepOptions): Promise<SweepSummary> {
  const started = Date.now();
  const runId = options.runId ?? crypto.randomUUID();
  const { logger, exclusions } = options;
  const now = new Date();

  const listing = await listWorkloadsInGraph(ports.graph, options.subscriptions, options.pageSize);
  const found: WorkloadRow[] = [];
  for (const graphRow of listing.rows) {
    const row = workloadRowOfGraph(graphRow, exclusions, now);
    if (row) found.push(row);
  }
  // Without a configured list, the swept subscriptions are those the listing saw: a subscription
  // left with no workload at all keeps its rows until it is named in SWEEP_SUBSCRIPTIONS.
  const subscriptions =
    options.subscriptions.length > 0
      ? [...options.subscriptions]
      : [...new Set(found.map((row) => row.partitionKey))].sort();
  const existing = new Map<string, Set<string>>();
  for (const subscription of subscriptions)
    existing.set(subscription, await listWorkloadKeys(ports.table, subscription));

  const plan = planReconciliation(found, existing);
  const messages = sweepRequests(found, { runId, now, newId: () => crypto.randomUUID() });
  const summary: SweepSummary = {
    runId,
    dryRun: options.dryRun,
    subscriptions,
    pages: listing.pages,
    workloads: found.length,
    skipped: listing.rows.length - found.length,
    images: messages.length,
    inserted: plan.inserted,
    updated: plan.updated,
    deleted: plan.deleted,
    requestsSent: 0,
    requestsRejected: 0,
    durationMs: 0,
  };
  if (!options.dryRun) {
    for (const batch of plan.batches) await submitWorkloadActions(ports.table, batch);
    const sent = await sendPaced(ports.requests, messages, options.requestsPerSecond);
    summary.requestsSent = sent.sent;
    summary.requestsRejected = sent.rejected;
    // Only a sweep that reconciled and requested everything moves coverage's lastSweepAt.
    await markSweepFinished(ports.table, new Date());
  }
  summary.durationMs = Date.now() - started;
  logger.info({ ...summary, subscriptions: subscriptions.length }, "sweep done");
  return summary;
}

function workloadRowOfGraph(
  graphRow: { id: string; type: string; properties: unknown },
  exclusions: Exclusions,
  now: Date,
): WorkloadRow | undefined {
  const kind = kindOfType(graphRow.type);
  const id = parseResourceId(graphRow.id);
  if (kind === undefined || !id.ok) return undefined;
  if (exclusions.resourceGroup(id.value.resourceGroup) || exclusions.resourceName(id.value.name))
    return undefined;
  const result = deployedResourceOf({ kind, resourceId: graphRow.id }, graphRow);
  if (result.status !== "found") return undefined;
  return workloadRowOf(kind, result.resource, exclusions, { at: now, by: "sweep" });
}

/** At most `perSecond` messages in each second; a send that fails throws. */
async function sendPaced(
  sink: ScanRequestSink,
  messages: readonly ScanRequestMessage[],
  perSecond: number,
): Promise<{ sent: number; rejected: number }> {
  let sent = 0;
  let rejected = 0;
  for (let start = 0; start < messages.length; start += perSecond) {
    const windowStart = Date.now();
    const result = await sink.send(messages.slice(start, start + perSecond), AbortSignal.timeout(60_000));
    if (result.error !== undefined) {
      const reason = result.error instanceof Error ? result.error.message : String(result.error);
      throw new Error(`sending scan requests failed after ${sent + result.accepted.size}: ${reason}`);
    }
    sent += result.accepted.size;
    rejected += result.rejected?.size ?? 0;
    const wait = 1000 - (Date.now() - windowStart);
    if (start + perSecond < messages.length && wait > 0) await new Promise((done) => setTimeout(done, wait));
  }
  return { sent, rejected };
}
