/**
 * ARM documents of the wrong shape, served by the local ARM endpoint and read through the official
 * SDKs: each is a non-retryable invalid-arm-document, never an exception or a made-up container.
 */
import type { RunningArmEmulator } from "@qcs/emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ResourceLookup } from "../../src/core/lookup.ts";
import type { Target } from "../../src/core/select.ts";
import { lookupThrough, startSampleArm } from "../support/arm.ts";
import { SUBSCRIPTION } from "../support/fixtures.ts";

const signal = new AbortController().signal;
const GROUP = "rg-malformed";
const TYPES = {
  aci: "Microsoft.ContainerInstance/containerGroups",
  aca: "Microsoft.App/containerApps",
  "aca-job": "Microsoft.App/jobs",
} as const;

let arm: RunningArmEmulator;
let lookup: ResourceLookup;
beforeAll(async () => {
  arm = await startSampleArm();
  lookup = lookupThrough(arm);
});
afterAll(() => arm?.close());

/** Serves `properties` as the document of a new resource of `kind` and looks it up. */
async function lookUp(kind: Target["kind"], name: string, properties: unknown) {
  const resourceId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${GROUP}/providers/${TYPES[kind]}/${name}`;
  arm.put({ id: resourceId, name, type: TYPES[kind], ...(properties === undefined ? {} : { properties }) });
  const target: Target = {
    kind,
    resourceId,
    subscriptionId: SUBSCRIPTION,
    resourceGroup: GROUP,
    name,
    eventTime: undefined,
    correlationId: undefined,
  };
  const result = await lookup.lookup(target, signal);
  return { result, requests: arm.requests.filter((request) => request.path === resourceId).length };
}

describe("ARM documents of the wrong shape", () => {
  it.each([
    ["aci", "image a number", { containers: [{ name: "c", properties: { image: 123 } }] }],
    ["aci", "containers a string", { containers: "nope" }],
    ["aci", "containers an object", { containers: { name: "c" } }],
    ["aci", "a container null", { containers: [null] }],
    ["aci", "container properties a string", { containers: [{ name: "c", properties: "x" }] }],
    ["aci", "name a number", { containers: [{ name: 5, properties: { image: "nginx" } }] }],
    ["aci", "properties a string", "x"],
    ["aci", "no properties", undefined],
    ["aca", "image a number", { template: { containers: [{ name: "c", image: 123 }] } }],
    ["aca", "image an array", { template: { containers: [{ name: "c", image: ["nginx"] }] } }],
    ["aca", "containers a string", { template: { containers: "nope" } }],
    ["aca", "a container null", { template: { containers: [null] } }],
    ["aca", "template a string", { template: "x" }],
    ["aca-job", "init containers an object", { template: { initContainers: { image: "nginx" } } }],
  ] as const)(
    "reports a %s document with %s as invalid-arm-document, looked up once",
    async (kind, what, properties) => {
      const name = `bad-${kind}-${what.replaceAll(" ", "-")}`;
      const { result, requests } = await lookUp(kind, name, properties);
      expect(result).toMatchObject({ status: "failed", kind: "invalid-arm-document", retryable: false });
      expect(requests).toBe(1);
    },
  );

  it("accepts null lists, which ARM sends for an app without init containers", async () => {
    const { result } = await lookUp("aca", "good-null-init", {
      template: { initContainers: null, containers: [{ name: "web", image: "nginx:1.27" }] },
    });
    expect(result).toMatchObject({
      status: "found",
      resource: { containers: [{ name: "web", image: "nginx:1.27", init: false }] },
    });
  });
});
