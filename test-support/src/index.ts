// Helpers shared by every package's tests (never imported by production code).
export * from "./modules.ts";
export * from "./otlpReceiver.ts";
export * from "./processes.ts";
export * from "./tcpRelay.ts";
export * from "./waitFor.ts";
