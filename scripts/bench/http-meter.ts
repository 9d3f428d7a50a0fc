/**
 * Preloaded into the accountant during the bench (node -r): counts its API requests and response bytes
 * and writes one JSON line per burst of calls -- {"msg":"bench-http-burst","ms","requests","bytes"} --
 * once no request has been in flight for BURST_GAP_MS. An accountant that lists everything each pass
 * makes one burst per pass. Watches (long-lived, `watch=true`) are counted but never hold a burst open.
 */
// The modules themselves (import * would give a read-only namespace copy whose request cannot be replaced).
import fs = require("node:fs");
import http = require("node:http");
import https = require("node:https");

const BURST_GAP_MS = Number(process.env.BENCH_METER_GAP_MS ?? 2000);

let inFlight = 0;
let burst: { start: number; lastEnd: number; requests: number; bytes: number } | undefined;

function wrap(mod: typeof http | typeof https): void {
  const original = mod.request.bind(mod) as (...args: unknown[]) => http.ClientRequest;
  (mod as { request: unknown }).request = (...args: unknown[]): http.ClientRequest => {
    const req = original(...args);
    const now = Date.now();
    const path = req.path ?? "";
    const isWatch = /[?&]watch=(true|1)/.test(path);
    burst ??= { start: now, lastEnd: now, requests: 0, bytes: 0 };
    const b = burst;
    b.requests++;
    if (!isWatch) inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (!isWatch) inFlight--;
      b.lastEnd = Date.now();
    };
    req.on("response", (res: http.IncomingMessage) => {
      res.on("data", (chunk: Buffer) => {
        b.bytes += chunk.length;
      });
      res.on("end", finish);
      res.on("close", finish);
    });
    req.on("error", finish);
    return req;
  };
}

wrap(http);
wrap(https);

// Stopped mid-pass (the bench ends): the open burst, marked unfinished, so a pass longer than the bench still shows.
process.on("SIGTERM", () => {
  if (!burst) return;
  const b = burst;
  fs.writeSync(
    1,
    `${JSON.stringify({ time: new Date().toISOString(), msg: "bench-http-burst", unfinished: true, ms: Date.now() - b.start, requests: b.requests, bytes: b.bytes })}\n`,
  );
});

setInterval(() => {
  if (!burst || inFlight > 0 || Date.now() - burst.lastEnd < BURST_GAP_MS) return;
  const b = burst;
  burst = undefined;
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), msg: "bench-http-burst", ms: b.lastEnd - b.start, requests: b.requests, bytes: b.bytes })}\n`,
  );
}, 250).unref();
