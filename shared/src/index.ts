// The pure entry of @qcs/shared: what services agree on (message contracts, image references, table
// keys, configuration schemas, secret redaction). Importing it loads no Azure SDK, fastify or
// OpenTelemetry SDK, so cores and tools can use it cheaply; clients, logging, telemetry and the
// HTTP server are in `@qcs/shared/runtime`.
export type { Logger } from "pino";
export * from "./config/cli.ts";
export * from "./config/fields.ts";
export * from "./config/ingest.ts";
export * from "./config/load.ts";
export * from "./config/notify.ts";
export * from "./config/recorder.ts";
export * from "./config/scanner.ts";
export * from "./config/sweep.ts";
export * from "./contracts/contractError.ts";
export * from "./contracts/dedupKey.ts";
export * from "./contracts/failureRemedies.ts";
export * from "./contracts/messages.ts";
export * from "./contracts/notification.ts";
export * from "./contracts/recorderApi.ts";
export * from "./contracts/schemas.ts";
export * from "./imageRef.ts";
export * from "./logLevels.ts";
export * from "./redact.ts";
export * from "./scanTables.ts";
export * from "./workloadsTable.ts";
