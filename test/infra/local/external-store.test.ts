import { egressForEndpoint } from "../../../infra/local/external-store";

describe("egressForEndpoint", () => {
  test("an IPv4 endpoint allows only that host (/32) on its port", () => {
    expect(egressForEndpoint("http://10.1.2.3:9000")).toEqual({ kind: "cidr", cidr: "10.1.2.3/32", port: 9000 });
  });

  test("a DNS endpoint allows any address, but only on its port", () => {
    expect(egressForEndpoint("https://s3.lab.example:8443")).toEqual({ kind: "cidr", cidr: "0.0.0.0/0", port: 8443 });
  });

  test("the port defaults from the scheme", () => {
    expect(egressForEndpoint("https://s3.example.com").port).toBe(443);
    expect(egressForEndpoint("http://192.168.0.10").port).toBe(80);
  });

  test("an impossible IPv4 address is not a URL", () => {
    expect(() => egressForEndpoint("http://999.1.1.1:9000")).toThrow("is not a URL");
  });

  test("rejects non-URLs and other schemes, naming the key", () => {
    expect(() => egressForEndpoint("minio:9000")).toThrow(
      "kiln:objectStore.endpoint: 'minio:9000' must use http or https",
    );
    expect(() => egressForEndpoint("not a url")).toThrow(
      "kiln:objectStore.endpoint: 'not a url' is not a URL such as http://10.0.0.5:9000",
    );
  });
});
