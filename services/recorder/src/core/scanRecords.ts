// What the recorder writes to Table Storage, for other packages' tests and tools that read those
// tables directly (the scanner's cache tests seed rows with it; benchmarks read the timeline).
export { HISTORY_TIMELINE_PARTITION, historyRowKey, scanHistoryEntities } from "./scanHistory.ts";
export { applyScanToMetadata } from "./scanMetadata.ts";
