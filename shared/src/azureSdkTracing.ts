import { createRequire } from "node:module";

/**
 * Lets the Azure SDK trace once an SDK has registered the Azure SDK instrumentation: that
 * instrumentation sets `@azure/core-tracing`'s instrumenter when the module is `require`d, which
 * ESM imports never do. Requiring it once here triggers the patch; the instrumenter lives in state
 * that the package's ESM and CommonJS builds share, so `@azure/service-bus` (imported as ESM) then
 * starts spans and stamps each sent message with a `Diagnostic-Id` (W3C traceparent).
 */
export function activateAzureSdkTracing(): void {
  createRequire(import.meta.url)("@azure/core-tracing");
}
