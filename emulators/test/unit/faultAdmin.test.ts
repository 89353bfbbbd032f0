/** `/_admin/faults` through fastify's inject, which can pose as a client on another machine. */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { registerFaultAdmin } from "../../src/faults/adminRoutes.ts";
import { Faults } from "../../src/faults/faults.ts";

describe("the fault admin endpoint", () => {
  it("answers loopback clients only, whatever address the emulator listens on", async () => {
    const faults = new Faults();
    const app = Fastify();
    registerFaultAdmin(app, faults);
    const rules = [{ path: "/v2/*", status: 503 }];
    for (const remoteAddress of ["10.0.0.5", "192.168.1.20", "::ffff:10.1.2.3", "fe80::1"]) {
      const refused = await app.inject({
        method: "POST",
        url: "/_admin/faults",
        payload: rules,
        remoteAddress,
      });
      expect(refused.statusCode).toBe(403);
    }
    expect(faults.list()).toEqual([]);
    for (const remoteAddress of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      const added = await app.inject({
        method: "POST",
        url: "/_admin/faults",
        payload: rules,
        remoteAddress,
      });
      expect(added.statusCode).toBe(200);
    }
    expect(faults.list()).toHaveLength(3);
    expect(faults.take({ path: "/v2/docker.io/library/nginx/manifests/1" })).toEqual(rules[0]);
    expect(faults.take({ path: "/oauth2/token" })).toBeUndefined();
  });
});
