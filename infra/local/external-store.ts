import type { ObjectStoreEgress } from "../platform";

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * NetworkPolicy egress for an S3-compatible endpoint outside the cluster: the host itself (/32) when
 * the URL names an IPv4 address, otherwise any address (DNS names can resolve anywhere) - always
 * limited to the endpoint's port.
 */
export function egressForEndpoint(endpoint: string): ObjectStoreEgress {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`kiln:objectStore.endpoint: '${endpoint}' is not a URL such as http://10.0.0.5:9000`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`kiln:objectStore.endpoint: '${endpoint}' must use http or https`);
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  // URL has already rejected impossible addresses such as 999.1.1.1.
  if (IPV4.test(url.hostname)) return { kind: "cidr", cidr: `${url.hostname}/32`, port };
  return { kind: "cidr", cidr: "0.0.0.0/0", port };
}
