/**
 * What every command receives: the terminal, the clock, and factories for the adapters it may
 * need. `main.ts` implements it; a factory builds its SDK client on first use, so a command that
 * needs only the recorder never needs Service Bus settings.
 */
import type { SweepSummary } from "@qcs/ingest/sweep";
import type { DeliveryResult } from "@qcs/recorder/webhooks";
import type { Env, Notification, Webhook } from "@qcs/shared";
import type { DeadLetterEntity } from "../core/deadLetters.ts";
import type {
  DeadLetterQueue,
  EntityCountsReader,
  EventSender,
  RecorderApi,
  ReplayInputReader,
  ScanRequestSender,
  Terminal,
} from "../core/ports.ts";

/** Options every command accepts (they override the environment). */
export interface GlobalOptions {
  verbose?: boolean;
  servicebusNamespace?: string;
  eventhubsNamespace?: string;
  queue?: string;
  topic?: string;
  subscription?: string;
  eventHub?: string;
  recorderUrl?: string;
}

export interface ScanctlContext {
  readonly terminal: Terminal;
  /** Aborted on SIGINT/SIGTERM: long operations stop at the next safe point. */
  readonly signal: AbortSignal;
  now(): Date;
  /** Called once, before the command runs, with the global options given. */
  configure(options: GlobalOptions): void;
  deadLetterQueue(entity: DeadLetterEntity): DeadLetterQueue;
  entityCounts(): EntityCountsReader;
  scanRequestSender(): ScanRequestSender;
  /** The Event Hub's name and a sender to it. */
  eventSender(): { eventHub: string; sender: EventSender };
  replayInputs(): ReplayInputReader;
  /** Throws a configuration error when RECORDER_URL is not set. */
  recorder(): RecorderApi;
  hasRecorder(): boolean;
  /** NOTIFY_WEBHOOKS (or these FORMAT=URL items instead) and how to post to one, as the recorder does. */
  webhooks(override?: readonly string[]): Promise<{
    webhooks: readonly Webhook[];
    post(webhook: Webhook, notification: Notification): Promise<DeliveryResult>;
  }>;
  /** One sweep with the sweep's configuration (SWEEP_*, ARM_*, storage, Service Bus) and the operator's credentials. */
  sweep(dryRun: boolean): Promise<SweepSummary>;
  /** Who runs the command, for `sources[].requestedBy` of a manual scan request. */
  operator(): string | undefined;
  /** The process environment (`dev` hands it on to the services it starts). */
  environment(): Env;
  /** Whether stdout and stderr are terminals, and whether colours are welcome there (`dev`). */
  output(): Record<"stdout" | "stderr", { isTerminal: boolean; colors: boolean }>;
}
