/**
 * From a deployed resource to the images it runs: every container and init container, each
 * reference normalised; invalid references and excluded images are reported, never requested.
 */
import { type ImageRef, type ResourceScanSource, tryParseImageRef } from "@qcs/shared";
import type { Exclusions } from "./exclusions.ts";
import type { DeployedResource } from "./lookup.ts";
import { parseResourceId } from "./resourceId.ts";
import type { Target } from "./select.ts";

export type ImageOutcome =
  | { ok: true; image: ImageRef; source: ResourceScanSource }
  | {
      ok: false;
      reason: "invalid-reference" | "excluded-image";
      resourceId: string;
      containerName: string;
      image: string;
      detail: string;
    };

export function imagesOf(target: Target, resource: DeployedResource, exclusions: Exclusions): ImageOutcome[] {
  // ARM's own ID has the resource group's real casing; the event's may be upper-cased.
  const parsed = parseResourceId(resource.id);
  const location = parsed.ok
    ? {
        resourceId: resource.id,
        subscriptionId: parsed.value.subscriptionId.toLowerCase(),
        resourceGroup: parsed.value.resourceGroup,
        resourceName: parsed.value.name,
      }
    : {
        resourceId: target.resourceId,
        subscriptionId: target.subscriptionId,
        resourceGroup: target.resourceGroup,
        resourceName: target.name,
      };
  return resource.containers.map((container): ImageOutcome => {
    const raw = container.image ?? "";
    const parsedImage = tryParseImageRef(raw);
    if (!parsedImage.ok) {
      return {
        ok: false,
        reason: "invalid-reference",
        resourceId: location.resourceId,
        containerName: container.name,
        image: raw.slice(0, 300),
        detail: parsedImage.reason,
      };
    }
    if (exclusions.image(parsedImage.value)) {
      return {
        ok: false,
        reason: "excluded-image",
        resourceId: location.resourceId,
        containerName: container.name,
        image: parsedImage.value.ref,
        detail: "matches EXCLUDE_IMAGES",
      };
    }
    const source: ResourceScanSource = { kind: target.kind, ...location };
    if (container.name) source.containerName = container.name;
    if (target.eventTime) source.eventTime = target.eventTime;
    if (target.correlationId) source.correlationId = target.correlationId;
    return { ok: true, image: parsedImage.value, source };
  });
}
