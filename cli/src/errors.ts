/**
 * Errors and exit codes: 0 ok, 1 failure, 2 usage or invalid input. Kubernetes API failures are
 * turned into plain messages that say what was being attempted.
 */

/** Bad arguments or input (exit 2). */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure with a message already fit for the user (exit 1 unless said otherwise). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** What an ApiException looks like (client-node 1.x): HTTP code and the raw response body. */
interface ApiLike {
  code: number;
  body?: unknown;
  message: string;
}

export function isApiException(err: unknown): err is ApiLike {
  return err instanceof Error && typeof (err as Partial<ApiLike>).code === "number" && "body" in err;
}

/** HTTP status of an ApiException, else undefined. */
export function statusCode(err: unknown): number | undefined {
  return isApiException(err) ? err.code : undefined;
}

/** The Status message the API server sent (`body.message`), else the error's own first line. */
export function apiMessage(err: unknown): string {
  if (isApiException(err)) {
    const body = err.body;
    let status: unknown = body;
    if (typeof body === "string") {
      try {
        status = JSON.parse(body);
      } catch {
        status = undefined;
      }
    }
    const msg = (status as { message?: unknown } | undefined)?.message;
    if (typeof msg === "string" && msg) return msg;
    return `HTTP ${err.code}`;
  }
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"]);

/** The network error code (ECONNREFUSED, ...) anywhere in the error's cause chain. */
export function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
    const m = /\b(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN)\b/.exec(
      (e as Error).message ?? "",
    );
    if (m) return m[1];
  }
  return undefined;
}

export interface ApiErrorContext {
  /** What was being attempted, e.g. "creating Job run-1 in namespace kiln-ml". */
  readonly attempting: string;
  /** API server URL (for "no cluster reachable"). */
  readonly server: string;
  readonly namespace: string;
  /** Message for 404, when the caller knows what is missing. */
  readonly notFound?: string;
  /** Message for 409. */
  readonly conflict?: string;
}

/** Turns a Kubernetes client error into a CliError with a plain message saying what was being attempted. */
export function explainApiError(err: unknown, ctx: ApiErrorContext): CliError {
  if (err instanceof CliError || err instanceof UsageError) throw err;
  const net = networkCode(err);
  if (net)
    return new CliError(
      `${ctx.attempting}: no cluster reachable at ${ctx.server} (${net}); is the cluster up, and are --context/--kubeconfig right?`,
    );
  const code = statusCode(err);
  if (code === undefined) return new CliError(`${ctx.attempting}: ${apiMessage(err)}`);
  const msg = apiMessage(err);
  switch (code) {
    case 401:
      return new CliError(
        `${ctx.attempting}: the API server at ${ctx.server} rejected the credentials (401): refresh your kubeconfig credentials`,
      );
    case 403:
      if (/exceeded quota/i.test(msg))
        return new CliError(`${ctx.attempting}: quota exceeded in namespace ${ctx.namespace}: ${msg}`);
      return new CliError(
        `${ctx.attempting}: forbidden (403): ${msg}; ask an admin for the kiln-submitter role in namespace ${ctx.namespace}`,
      );
    case 404:
      return new CliError(`${ctx.attempting}: ${ctx.notFound ?? `not found (404): ${msg}`}`);
    case 409:
      return new CliError(`${ctx.attempting}: ${ctx.conflict ?? `conflict (409): ${msg}`}`);
    case 422:
      return new CliError(`${ctx.attempting}: the API server rejected the object (422): ${msg}`, 2);
    default:
      return new CliError(`${ctx.attempting}: HTTP ${code}: ${msg}`);
  }
}
