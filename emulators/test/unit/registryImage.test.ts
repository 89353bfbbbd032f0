import { describe, expect, it } from "vitest";
import { registryImageOf } from "../../src/index.ts";
import { inventoryImageRefs } from "../../src/registry/inventoryImages.ts";

describe("where an image lives on the local registry", () => {
  it.each([
    ["nginx:1.27", { repository: "docker.io/library/nginx", host: "docker.io", tag: "1.27" }],
    [
      "index.docker.io/fluent/fluent-bit",
      { repository: "docker.io/fluent/fluent-bit", host: "docker.io", tag: "latest" },
    ],
    ["GHCR.io/contoso/app:1.0", { repository: "ghcr.io/contoso/app", host: "ghcr.io", tag: "1.0" }],
    [
      `contosoprod.azurecr.io/payments/api:2@sha256:${"a".repeat(64)}`,
      {
        repository: "contosoprod.azurecr.io/payments/api",
        host: "contosoprod.azurecr.io",
        tag: "2",
        digest: `sha256:${"a".repeat(64)}`,
      },
    ],
  ])("%s → %o", (ref, expected) => {
    expect(registryImageOf(ref)).toEqual(expected);
  });

  it.each(["ghcr.io/Contoso/CertTool:latest", "localhost:5000/app:1", "app@sha256:abc", "app:bad tag"])(
    "cannot serve %s",
    (ref) => {
      expect(registryImageOf(ref)).toBeUndefined();
    },
  );

  it("finds the images of container groups, container apps and jobs, init containers included", () => {
    expect(
      inventoryImageRefs([
        {
          id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerInstance/containerGroups/ci",
          properties: {
            containers: [{ name: "a", properties: { image: "a:1" } }],
            initContainers: [{ name: "b", properties: { image: "b:1" } }],
          },
        },
        {
          id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.App/jobs/j",
          properties: {
            template: { containers: [{ image: "c:1" }, { image: 7 }], initContainers: [{ image: "a:1" }] },
          },
        },
      ]),
    ).toEqual(["a:1", "b:1", "c:1"]);
  });
});
