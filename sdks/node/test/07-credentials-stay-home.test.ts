// Credentials never leave for another address and never sit in a URL: redirects are refused
// (the key would follow the Location, another origin included), and the `message` form of the
// realtime credentials (the browser default) keeps the key out of the socket's URL.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import WebSocket from "ws";
import { Ludex, LudexError, type WebSocketConstructor } from "@ludex/sdk";
import { client, serverEnv } from "./helpers.js";

async function listen(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("a redirect to another origin is refused and the key never reaches it", async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const elsewhere = await listen((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  t.after(() => elsewhere.close());
  const redirecting = await listen((request, response) => {
    response.writeHead(307, { location: `${elsewhere.url}${request.url}` }).end();
  });
  t.after(() => redirecting.close());
  const ludex = new Ludex({ baseUrl: redirecting.url, tenantId: "demo", projectId: "demo", apiKey: "ldx_secret_key" });

  const error = await ludex.players.get("ada").catch((caught: unknown) => caught);

  assert.ok(error instanceof LudexError, String(error));
  assert.deepEqual([error.status, error.slug], [307, "redirect-refused"]);
  assert.match(error.message, /set baseUrl to the final address/);
  assert.deepEqual(seen, [], "nothing, and no x-api-key, went to the other origin");
});

test("credentials in the first message: the socket's URL holds no key and events still flow", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const urls: string[] = [];
  const browserLike = function (url: string, protocols?: unknown) {
    urls.push(url);
    assert.equal(protocols, undefined, "a browser's WebSocket takes no headers");
    return new WebSocket(url);
  } as unknown as WebSocketConstructor;
  const realtime = client(env, { WebSocket: browserLike }).realtime({ credentialsIn: "message", eventTypes: ["*"] });
  t.after(() => realtime.close());
  await realtime.connect();

  assert.equal(urls.length, 1);
  assert.ok(!urls[0]!.includes(env.apiKey) && !urls[0]!.includes("x-api-key"), urls[0]);
});
