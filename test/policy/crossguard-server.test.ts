/**
 * The real pack, served the way the Pulumi CLI runs it (`run-policy-pack` compiles policy/index.ts
 * and serves the Analyzer gRPC service), queried over gRPC with fixture resources: what
 * `pulumi preview --policy-pack policy` would report, without the CLI.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { RULES } from "../../policy/rules";
import { BREAKS, compliantWorld, type World } from "./fixtures";

/* eslint-disable @typescript-eslint/no-require-imports */
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

const ROOT = path.resolve(__dirname, "../..");
let pack: ChildProcess;
let client: any;

beforeAll(async () => {
  pack = spawn(
    process.execPath,
    [path.join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js"), "127.0.0.1:1", "."],
    { cwd: path.join(ROOT, "policy"), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  pack.stderr!.on("data", (d) => (stderr += d));
  const port = await new Promise<string>((resolve, reject) => {
    pack.stdout!.once("data", (d) => resolve(String(d).trim()));
    pack.once("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
  });
  client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  pack?.kill();
});

const call = <T>(method: string, req: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))),
  );

function resource(r: World["resources"][number], Cls: any) {
  const msg = new Cls();
  msg.setType(r.type);
  msg.setName(r.name);
  msg.setUrn(r.urn);
  msg.setProperties(Struct.fromJavaScript(r.props));
  msg.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the CLI always sends options
  if (msg.setDependenciesList) msg.setDependenciesList(r.dependencies);
  return msg;
}

type Diag = { policy: string; message: string };
const diags = (res: any): Diag[] =>
  res.getDiagnosticsList().map((d: any) => ({ policy: d.getPolicyname(), message: d.getMessage() }));

async function analyzeEach(w: World): Promise<Diag[]> {
  const out: Diag[] = [];
  for (const r of w.resources) out.push(...diags(await call("analyze", resource(r, analyzerPb.AnalyzeRequest))));
  return out;
}

async function analyzeStack(w: World): Promise<Diag[]> {
  const req = new analyzerPb.AnalyzeStackRequest();
  req.setResourcesList(w.resources.map((r) => resource(r, analyzerPb.AnalyzerResource)));
  return diags(await call("analyzeStack", req));
}

test("the served pack lists every rule as a mandatory policy", async () => {
  const info = await call<any>("getAnalyzerInfo", new Empty());
  expect(info.getName()).toBe("kiln");
  const policies = info.getPoliciesList();
  expect(policies.map((p: any) => p.getName())).toEqual(RULES.map((r) => r.name));
  for (const p of policies) expect(p.getEnforcementlevel()).toBe(analyzerPb.EnforcementLevel.MANDATORY);
});

test("a compliant world passes resource and stack analysis", async () => {
  const w = compliantWorld();
  expect(await analyzeEach(w)).toEqual([]);
  expect(await analyzeStack(w)).toEqual([]);
}, 60_000);

test.each(Object.keys(BREAKS))(
  "%s: the served pack reports the violation",
  async (rule) => {
    const w = compliantWorld();
    BREAKS[rule](w);
    const found = [...(await analyzeEach(w)), ...(await analyzeStack(w))];
    expect(found.length).toBeGreaterThan(0);
    expect([...new Set(found.map((d) => d.policy))]).toEqual([rule]);
  },
  60_000,
);
