/** A metrics page over HTTPS for the bench: its text, or undefined with the reason on stderr (`what: ...`). */
import * as https from "node:https";

export function httpsText(url: URL, opts: https.RequestOptions, what: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = https.get(url, opts, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        if (res.statusCode === 200) return resolve(body);
        process.stderr.write(`${what}: HTTP ${res.statusCode}\n`);
        resolve(undefined);
      });
    });
    req.on("error", (e) => {
      process.stderr.write(`${what}: ${e.message}\n`);
      resolve(undefined);
    });
    req.on("timeout", () => req.destroy(new Error(`timed out after ${(opts.timeout ?? 0) / 1000} s`)));
  });
}
