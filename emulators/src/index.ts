// Local stand-ins for Azure and Qualys, for development and tests only. Each emulator is usable
// in-process (tests) and from `npm run emulators`.

// The AMQP 1.0 server layer shared by the Service Bus and Event Hubs emulators.
export * from "./amqp/codec.ts";
export * from "./amqp/errors.ts";
export * from "./amqp/server.ts";
export * from "./arm/armEmulator.ts";
// A throw-away certificate for a local HTTPS endpoint (ARM; Application Insights ingestion in tests).
export { type LoopbackCertificate, loopbackCertificate } from "./arm/tls.ts";
export * from "./azurite/azurite.ts";
// Event Hubs: `startEventHubsEmulator`, the project's Config.json and the configuration types.
export * from "./eventhubs/emulator.ts";
export * from "./faults/faultRules.ts";
// Makes a Node child process end with its parent: `node --import <lifelinePath>` and a socket on fd 3.
export * from "./process/index.ts";
export * from "./qscanner-sim/index.ts";
// The local OCI registry: `startRegistryEmulator`, and where an image lives on it.
export { type RegistryImage, registryImageOf } from "./registry/imageRef.ts";
export * from "./registry/registryEmulator.ts";
// Service Bus: `startServiceBusEmulator`, the project's Config.json and the configuration types.
export * from "./servicebus/emulator.ts";
// The webhook sink notifications are delivered to locally.
export * from "./webhooks/webhookSink.ts";
