/** The dashboard's stylesheet (served inline: no external assets). */
export const STYLES = `
:root { --fg:#1d2430; --muted:#5f6b7a; --line:#dde3ea; --bg:#f6f8fa; --accent:#b4451f; --ok:#1f7a3d; --bad:#b42318; --wait:#946200; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #fff; }
header { display:flex; gap:24px; align-items:center; padding:10px 24px; background: var(--fg); color:#fff; }
header a { color:#cfd6df; text-decoration:none; margin-right:16px; }
header a.active, header a:hover { color:#fff; border-bottom:2px solid var(--accent); }
.brand { font-size:18px; color:#ffb38a; }
.scope { margin-left:auto; color:#9aa6b2; font-size:12px; }
main { padding: 8px 24px 40px; }
h1 { font-size:20px; margin:12px 0; }
h2 { font-size:16px; margin:24px 0 8px; }
table { border-collapse: collapse; width:100%; margin: 8px 0; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight:600; font-size:12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.status { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background: var(--bg); }
.status.Succeeded { color: var(--ok); background:#e6f4ea; } .status.Failed { color: var(--bad); background:#fdecea; }
.status.Running { color:#0b5cad; background:#e5f0fb; } .status.Queued, .status.Pending, .status.Suspended { color: var(--wait); background:#fdf3d8; }
.reason { color: var(--muted); font-size:12px; max-width: 420px; }
form.filters { display:flex; gap:12px; align-items:end; flex-wrap: wrap; margin: 8px 0; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color: var(--muted); }
form.filters input, form.filters select { font: inherit; padding:3px 6px; }
.pager { display:flex; gap:12px; align-items:center; margin: 8px 0; color: var(--muted); }
.meter { display:inline-block; width:120px; height:10px; background: var(--bg); border:1px solid var(--line); border-radius:5px; overflow:hidden; vertical-align: middle; margin-right:6px; }
.meter .fill { display:block; height:100%; background: var(--accent); } .meter .fill.over { background: var(--bad); }
.notes { color: var(--wait); } .muted { color: var(--muted); }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin:0; }
#curve { min-height: 320px; margin: 8px 0; }
iframe.report { width:100%; height: 900px; border:1px solid var(--line); }
code { font-size: 12px; background: var(--bg); padding: 1px 4px; }
`;
