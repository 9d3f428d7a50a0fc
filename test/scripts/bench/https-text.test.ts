/** The bench's metrics reader against a real HTTPS server on loopback (a self-signed certificate from openssl). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { httpsText } from "../../../scripts/bench/https-text";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-https-text-"));
execFileSync(
  "openssl",
  ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    .concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
    .concat(["-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "c.pem")]),
  { stdio: "ignore" },
);
const cert = fs.readFileSync(path.join(dir, "c.pem"), "utf8");
const server = https.createServer({ cert, key: fs.readFileSync(path.join(dir, "k.pem"), "utf8") }, (req, res) => {
  if (req.headers.authorization !== "Bearer t") res.writeHead(403).end("forbidden");
  else res.writeHead(200).end("up 1\n");
});
let url: URL;
const stderr: string[] = [];

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
  jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => stderr.push(String(s)) > 0);
});
afterAll(async () => {
  jest.restoreAllMocks();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("httpsText", () => {
  test("reads the page with the given credentials and CA", async () => {
    expect(await httpsText(url, { ca: cert, headers: { Authorization: "Bearer t" } }, "metrics")).toBe("up 1\n");
  });

  test("gives undefined and says why for a refused request, an untrusted certificate and a closed port", async () => {
    expect(await httpsText(url, { ca: cert }, "metrics")).toBeUndefined();
    expect(await httpsText(url, { headers: { Authorization: "Bearer t" } }, "untrusted")).toBeUndefined();
    const closed = new URL("https://127.0.0.1:1/metrics");
    expect(await httpsText(closed, { ca: cert }, "closed")).toBeUndefined();
    expect(stderr[0]).toBe("metrics: HTTP 403\n");
    expect(stderr[1]).toMatch(/^untrusted: .*certificate/);
    expect(stderr[2]).toMatch(/^closed: connect ECONNREFUSED 127\.0\.0\.1:1/);
  });
});
