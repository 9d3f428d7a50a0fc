/**
 * The run page's script and stylesheet (client/curve.ts with uPlot from node_modules: no CDN). Taken, in
 * order, from: a bundle embedded at packaging time (the global below), files that `npm run build:cli`
 * wrote next to this module, or an esbuild bundle made now from the sources (a checkout).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface Assets {
  readonly js: string;
  readonly css: string;
}

declare const __KILN_DASHBOARD_ASSETS__: Assets | undefined;

export const PREBUILT_DIR = path.join(__dirname, "dashboard-assets");
const CLIENT_ENTRY = "client/curve.ts";

/** Bundles the client with esbuild (a development dependency; needs the sources). */
export function buildAssets(sourceDir = __dirname): Assets {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  const common = { bundle: true, write: false, minify: true, logLevel: "silent" as const, absWorkingDir: sourceDir };
  const js = esbuild.buildSync({
    ...common,
    entryPoints: [path.join(sourceDir, CLIENT_ENTRY)],
    format: "iife",
    target: "es2020",
    platform: "browser",
  });
  const css = esbuild.buildSync({
    ...common,
    entryPoints: [require.resolve("uplot/dist/uPlot.min.css")],
    loader: { ".css": "css" },
  });
  return { js: js.outputFiles![0].text, css: css.outputFiles![0].text };
}

/** Source directory of this module when running from a build (dist/cli/cli/src/dashboard -> cli/src/dashboard). */
function sourceDirOf(dir: string): string | undefined {
  for (let d = dir; path.dirname(d) !== d; d = path.dirname(d)) {
    const candidate = path.join(d, "cli", "src", "dashboard");
    if (fs.existsSync(path.join(candidate, CLIENT_ENTRY))) return candidate;
  }
  return undefined;
}

export function loadAssets(): Assets {
  if (typeof __KILN_DASHBOARD_ASSETS__ !== "undefined") return __KILN_DASHBOARD_ASSETS__;
  const js = path.join(PREBUILT_DIR, "dashboard.js");
  if (fs.existsSync(js))
    return { js: fs.readFileSync(js, "utf8"), css: fs.readFileSync(path.join(PREBUILT_DIR, "dashboard.css"), "utf8") };
  const src = fs.existsSync(path.join(__dirname, CLIENT_ENTRY)) ? __dirname : sourceDirOf(__dirname);
  if (!src)
    throw new Error(
      `no dashboard assets: neither ${PREBUILT_DIR} nor the sources (cli/src/dashboard/${CLIENT_ENTRY}) are here; run npm run build:cli`,
    );
  return buildAssets(src);
}

/** `npm run build:cli` step: writes the bundle next to the compiled module. */
export function writeAssets(outDir: string): void {
  const a = buildAssets(sourceDirOf(__dirname) ?? __dirname);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "dashboard.js"), a.js);
  fs.writeFileSync(path.join(outDir, "dashboard.css"), a.css);
}
