import { writesBetween, writesByResource } from "../../../scripts/bench/apiserver-writes";

const line = (labels: string, n: number) => `apiserver_request_total{${labels}} ${n}`;
const BEFORE = [
  "# TYPE apiserver_request_total counter",
  line('code="201",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"', 10),
  line('code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"', 40),
  line('code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="LIST",version="v1"', 900),
  line('code="200",component="apiserver",group="batch",resource="jobs",scope="resource",subresource="status",verb="PUT",version="v1"', 5),
].join("\n");
const AFTER = [
  line('code="201",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"', 110),
  line('code="409",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"', 3),
  line('code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"', 340),
  line('code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="LIST",version="v1"', 5000),
  line('code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="WATCH",version="v1"', 7),
  line('code="200",component="apiserver",group="batch",resource="jobs",scope="resource",subresource="status",verb="PUT",version="v1"', 5),
  line('code="201",component="apiserver",group="kueue.x-k8s.io",resource="workloads",scope="resource",subresource="",verb="APPLY",version="v1beta1"', 100),
  line('code="200",component="apiserver",group="",resource="configmaps",scope="resource",subresource="",verb="DELETE",version="v1"', 2),
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
