/** Minimal IPv4 CIDR arithmetic for carving a VPC into subnets. */
import { clip } from "./text";

export interface Cidr {
  readonly base: number;
  readonly prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % blockSize(prefix) !== 0) return undefined; // host bits set
  return { base, prefix };
}

/**
 * Why `text` is not a canonical IPv4 CIDR, or undefined when it is one. Canonical: four decimal octets
 * without leading zeros (`010` reads as octal in some tools), a decimal prefix without leading zeros,
 * no host bits set.
 */
export function cidrProblem(text: string): string | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return `'${clip(text)}' is not an IPv4 CIDR such as 10.0.0.0/16`;
  const parts = m.slice(1, 6);
  if (parts.some((p) => p.length > 1 && p.startsWith("0"))) {
    const octets = parts.slice(0, 4).map(Number);
    return `'${text}' has leading zeros: write it as ${octets.join(".")}/${Number(parts[4])}`;
  }
  if (parts.slice(0, 4).some((o) => Number(o) > 255) || Number(parts[4]) > 32)
    return `'${text}' is not an IPv4 CIDR: octets are 0-255 and the prefix 0-32`;
  const c = parseCidr(text);
  if (!c) {
    const octets = parts.slice(0, 4).map(Number);
    const prefix = Number(parts[4]);
    const base = octets.reduce((acc, o) => acc * 256 + o, 0);
    return `'${text}' has host bits set: the network is ${formatCidr({ base: base - (base % blockSize(prefix)), prefix })}`;
  }
  return undefined;
}

/** Addresses covered by the union of `cidrs` (canonical ones), out of 2^32. */
export function coveredAddresses(cidrs: readonly Cidr[]): number {
  const ranges = cidrs.map((c) => [c.base, c.base + blockSize(c.prefix)] as const).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -1;
  for (const [lo, hi] of ranges) {
    if (hi <= end) continue;
    total += hi - Math.max(lo, end);
    end = hi;
  }
  return total;
}

export const IPV4_ADDRESSES = 2 ** 32;

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(c.base / 2 ** shift) % 256);
  return `${o.join(".")}/${c.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The `index`-th block of length `prefix` inside `parent`, or undefined when it does not fit. */
export function subnetAt(parent: Cidr, prefix: number, index: number): Cidr | undefined {
  if (prefix < parent.prefix) return undefined;
  const base = parent.base + index * blockSize(prefix);
  if (base + blockSize(prefix) > parent.base + blockSize(parent.prefix)) return undefined;
  return { base, prefix };
}

export interface SubnetLayout {
  readonly private: readonly string[];
  readonly public: readonly string[];
}

/**
 * Private subnets (large, for pods) first, then public subnets (small, for NAT and load
 * balancers) after them. Returns undefined when the VPC is too small for `azCount` of each.
 */
export function layoutSubnets(
  vpcCidr: string,
  azCount: number,
  privatePrefix: number,
  publicPrefix: number,
): SubnetLayout | undefined {
  const vpc = parseCidr(vpcCidr);
  if (!vpc || publicPrefix < privatePrefix) return undefined;
  const privates: Cidr[] = [];
  for (let i = 0; i < azCount; i++) {
    const s = subnetAt(vpc, privatePrefix, i);
    if (!s) return undefined;
    privates.push(s);
  }
  const publicStart = (azCount * blockSize(privatePrefix)) / blockSize(publicPrefix);
  const publics: Cidr[] = [];
  for (let i = 0; i < azCount; i++) {
    const s = subnetAt(vpc, publicPrefix, publicStart + i);
    if (!s) return undefined;
    publics.push(s);
  }
  return { private: privates.map(formatCidr), public: publics.map(formatCidr) };
}
