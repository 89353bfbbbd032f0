// The runtime entry of @qcs/shared: SDK clients, logging, telemetry, the HTTP server, the shutdown
// lifecycle and the start-up path every service shares. Composition roots and adapters import it;
// cores import only `@qcs/shared`.
export * from "./azure/clients.ts";
export * from "./http/serviceServer.ts";
export * from "./lifecycle.ts";
export * from "./logging.ts";
export * from "./service.ts";
export * from "./telemetry.ts";
