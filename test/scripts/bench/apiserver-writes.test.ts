import { writesBetween, writesByResource } from "../../../scripts/bench/apiserver-writes";

/** One counter line as the API server writes it (`group:resource/subresource`, as writesByResource keys them). */
function line(what: string, verb: string, n: number, code = "200"): string {
  const [, group = "", resource, sub = ""] = /^(?:([^:]+):)?([^/]+)(?:\/(.+))?$/.exec(what) ?? [];
  return `apiserver_request_total{code="${code}",component="apiserver",group="${group}",resource="${resource}",scope="resource",subresource="${sub}",verb="${verb}",version="v1"} ${n}`;
}
const BEFORE = [
  "# TYPE apiserver_request_total counter",
  line("pods", "POST", 10, "201"),
  line("pods/status", "PATCH", 40),
  line("pods", "LIST", 900),
  line("batch:jobs/status", "PUT", 5),
].join("\n");
const AFTER = [
  line("pods", "POST", 110, "201"),
  line("pods", "POST", 3, "409"),
  line("pods/status", "PATCH", 340),
  line("pods", "LIST", 5000),
  line("pods", "WATCH", 7),
  line("batch:jobs/status", "PUT", 5),
  line("kueue.x-k8s.io:workloads", "APPLY", 100, "201"),
  line("configmaps", "DELETE", 2),
].join("\n");

describe("the API server's writes, read for the bench", () => {
  it("sums the mutating verbs of every response code per resource and subresource, and leaves reads out", () => {
    expect(writesByResource(AFTER)).toEqual(
      new Map([
        ["pods", 113],
        ["pods/status", 340],
        ["batch:jobs/status", 5],
        ["kueue.x-k8s.io:workloads", 100],
        ["configmaps", 2],
      ]),
    );
  });

  it("gives the writes between two readings, most written first, without resources that were not written", () => {
    const w = writesBetween(writesByResource(BEFORE), writesByResource(AFTER));
    expect(w.byResource).toEqual([
      { resource: "pods/status", writes: 300 },
      { resource: "pods", writes: 103 },
      { resource: "kueue.x-k8s.io:workloads", writes: 100 },
      { resource: "configmaps", writes: 2 },
    ]);
    expect(w.total).toBe(505);
  });

  it("reads a counter that went down (the API server restarted) as no writes, not as negative ones", () => {
    expect(writesBetween(writesByResource(AFTER), writesByResource(BEFORE)).total).toBe(0);
  });
});
