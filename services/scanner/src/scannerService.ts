/**
 * The scanner put together from clients and adapters that the caller built: `main.ts` in
 * production, tests and benchmarks with emulators. Owns the receivers and retry senders of both
 * request queues and the topic sender; the ServiceBusClient stays the caller's.
 */
import type { ServiceBusClient } from "@azure/service-bus";
import type { Meter, Tracer } from "@opentelemetry/api";
import type { Logger } from "@qcs/shared";
import { ServiceBusScanCompletedPublisher } from "./adapters/serviceBus/scanCompletedPublisher.ts";
import { type RequestQueueLinks, ScanRequestReceiver } from "./adapters/serviceBus/scanRequestReceiver.ts";
import { createScannerMetrics } from "./adapters/telemetry/scannerMetrics.ts";
import { createScanRequestHandler, type ScanRequestHandlerOptions } from "./core/handleScanRequest.ts";
import type {
  Clock,
  DigestResolver,
  QscannerProcess,
  RegistryAuthenticator,
  ScanCacheReader,
} from "./core/ports.ts";

export interface ScannerServiceOptions {
  serviceBus: ServiceBusClient;
  /** Deployment and people's requests: always served first. */
  queueName: string;
  /** Sweep requests: served when no deployment request waits. */
  sweepQueueName: string;
  /** Deployment scans started in a row while sweep work waits (SCANNER_PRIORITY_STREAK). */
  maxPriorityStreak: number;
  topicName: string;
  cache: ScanCacheReader;
  digests: DigestResolver;
  registryAuth: RegistryAuthenticator;
  qscanner: QscannerProcess;
  meter: Meter;
  /** Default: the global tracer. */
  tracer?: Tracer;
  logger: Logger;
  /** Removes secrets from text that leaves the process. */
  redact: (text: string) => string;
  handler: ScanRequestHandlerOptions;
  concurrency: number;
  /** Locks are renewed for the scan timeout plus this. Default: 5 minutes. */
  lockRenewalMarginMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: `crypto.randomUUID`. */
  newId?: () => string;
}

export interface ScannerService {
  readonly receiver: ScanRequestReceiver;
  start(): void;
  /** Lifecycle step 1: no new requests. */
  stopIntake(): Promise<void>;
  /** Lifecycle step 2: let scans finish; abandon them when `deadline` fires. */
  drain(deadline: AbortSignal): Promise<void>;
  /** Lifecycle step 3: wait (briefly) for settlements, then close the links. */
  close(): Promise<void>;
}

/** How long `close` waits for scans aborted at the deadline to be abandoned. */
const SETTLE_AFTER_DEADLINE_MS = 10_000;

export function createScannerService(options: ScannerServiceOptions): ScannerService {
  const logger = options.logger;
  const metrics = createScannerMetrics(options.meter);
  const queueLinks = (queueName: string): RequestQueueLinks => ({
    receiver: options.serviceBus.createReceiver(queueName, {
      receiveMode: "peekLock",
      // Renewed by ScanRequestReceiver per message, so a failed renewal can stop that scan.
      maxAutoLockRenewalDurationInMs: 0,
    }),
    retrySender: options.serviceBus.createSender(queueName),
  });
  const queues = { deployment: queueLinks(options.queueName), sweep: queueLinks(options.sweepQueueName) };
  const topicSender = options.serviceBus.createSender(options.topicName);
  const handle = createScanRequestHandler(
    {
      cache: options.cache,
      digests: options.digests,
      registryAuth: options.registryAuth,
      qscanner: options.qscanner,
      publisher: new ServiceBusScanCompletedPublisher(topicSender),
      metrics,
      clock: options.clock ?? { now: () => new Date() },
      newId: options.newId ?? (() => crypto.randomUUID()),
      redact: options.redact,
      logger,
    },
    options.handler,
  );
  const receiver = new ScanRequestReceiver({
    queues,
    handle,
    concurrency: options.concurrency,
    maxPriorityStreak: options.maxPriorityStreak,
    maxLockRenewalMs: options.handler.scanTimeoutMs + (options.lockRenewalMarginMs ?? 300_000),
    metrics,
    logger,
    ...(options.tracer ? { tracer: options.tracer } : {}),
  });

  return {
    receiver,
    start: () => {
      receiver.start();
      logger.info(
        {
          queue: options.queueName,
          sweepQueue: options.sweepQueueName,
          concurrency: options.concurrency,
          maxPriorityStreak: options.maxPriorityStreak,
        },
        "receiving scan requests",
      );
    },
    stopIntake: () => receiver.stopReceiving(),
    drain: (deadline) => receiver.drain(deadline),
    close: async () => {
      await Promise.race([
        receiver.idle(),
        new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_DEADLINE_MS).unref()),
      ]);
      for (const links of Object.values(queues)) {
        await links.receiver.close();
        await links.retrySender.close();
      }
      await topicSender.close();
    },
  };
}
