import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAzurite, startAzurite } from "../../src/azurite/azurite.ts";

describe("Azurite from npm on free ports", () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(() => azurite?.stop());

  it("serves tables and blobs to the official SDKs through its connection string", async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, "Probe", {
      allowInsecureConnection: true,
    });
    await table.createTable();
    await table.upsertEntity({ partitionKey: "p", rowKey: "r", value: 42 });
    expect((await table.getEntity<{ value: number }>("p", "r")).value).toBe(42);

    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const container = blobs.getContainerClient("probe");
    await container.createIfNotExists();
    await container.getBlockBlobClient("hello.txt").upload("hi", 2);
    expect((await container.getBlockBlobClient("hello.txt").downloadToBuffer()).toString()).toBe("hi");
  });

  it("stops its process", async () => {
    const second = await startAzurite();
    const pid = second.pid ?? -1;
    await second.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
