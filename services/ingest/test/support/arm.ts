// The ARM emulator with the sample inventory, and lookups through the real SDK clients against it.
import { type RunningArmEmulator, startArmEmulator } from "@qcs/emulators";
import { armClientsFactory, staticTokenCredential } from "../../src/adapters/arm/armClients.ts";
import { armLookup } from "../../src/adapters/arm/armLookup.ts";
import type { ResourceLookup } from "../../src/core/lookup.ts";
import { samples } from "./fixtures.ts";

export const ARM_TOKEN = "local-arm-token";

export function startSampleArm(): Promise<RunningArmEmulator> {
  return startArmEmulator({
    inventory: [samples.armContainerGroup(), samples.armContainerApp(), samples.armJob()] as never,
    token: ARM_TOKEN,
  });
}

/** Short retry delays keep tests fast; Retry-After from the emulator is still honoured. */
export function lookupThrough(
  arm: RunningArmEmulator,
  options: { timeoutMs?: number; maxRetries?: number } = {},
): ResourceLookup {
  return armLookup({
    clientsFor: armClientsFactory({
      endpoint: arm.url,
      credential: staticTokenCredential(ARM_TOKEN),
      ca: arm.ca,
      retry: { maxRetries: options.maxRetries ?? 3, retryDelayInMs: 20, maxRetryDelayInMs: 100 },
    }),
    timeoutMs: options.timeoutMs ?? 20_000,
  });
}
