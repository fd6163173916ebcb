// The fleet dashboard: polls central's fleet API with the office token and redraws.
// (office.js, loaded first, holds the token, the API call and the element helper.)
// Everything a station sent is inserted as text (textContent), never as HTML: a station's
// name or an alarm's detail cannot inject markup into the office's page.
"use strict";

const params = new URLSearchParams(location.search);
const REFRESH_S = Math.max(2, Number(params.get("refresh")) || 15);
const DAYS = Math.min(92, Math.max(1, Number(params.get("days")) || 7));
let timer = null;

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

function when(t) {
  return t ? new Date(t * 1000).toLocaleString("zh-CN", { hour12: false }) : "—";
}

function num(v, digits = 0) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(digits);
}

function showLogin(message) {
  clearTimeout(timer);
  $("#board").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#token").focus();
}

function showBoard() {
  $("#login").hidden = true;
  $("#board").hidden = false;
  $("#logout").hidden = false;
}

function fill(tbody, rows, empty) {
  tbody.replaceChildren();
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", empty, "muted");
    td.colSpan = tbody.parentElement.querySelectorAll("thead th").length;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const row of rows) tbody.append(row);
}

function stationCell(s) {
  const td = el("td");
  td.append(el("strong", s.id), el("br"), el("span", s.name, "muted"));
  return td;
}

function commandsText(c) {
  if (!c) return "—";
  const finished = c.done + c.refused + c.failed;
  return `${num(c.pending)} / ${num(finished)}` + (c.refused + c.failed ? ` (${c.refused + c.failed} not done)` : "");
}

function softwareText(s) {
  const u = s.update;
  const running = s.software || "—";
  if (!u) return running;
  const parts = [running];
  if (u.target && u.target !== s.software) parts.push(`→ ${u.target} (${u.stage})`);
  if (u.held) parts.push(`${u.held} ${u.held_stage}`);
  if (u.last) parts.push(`last ${u.last.version}: ${u.last.status}` + (u.last.status === "ok" ? "" : ` (${u.last.detail})`));
  return parts.join(" · ");
}

function stationRow(s) {
  const tr = el("tr");
  tr.className = `status-${s.status} health-${s.health}`;
  tr.dataset.station = s.id;
  const status = el("td");
  status.append(el("span", s.status, `badge ${s.status}`), el("br"),
    el("span", s.health, `badge ${s.health}`));
  const d = s.doors || {};
  const rest = s.occupancy
    ? `${s.occupancy} · ${num(s.occupied_minutes_today)} min`
    : "—";
  const pi = [
    s.cpu_temp_c !== null ? `${num(s.cpu_temp_c, 1)} °C` : null,
    s.disk_free_share !== null ? `disk ${Math.round(s.disk_free_share * 100)}% free` : null,
    s.clock_synced === false ? "clock unsynced" : null,
  ].filter(Boolean).join(" · ") || "—";
  const problems = el("ul", null, "problems");
  for (const p of s.problems) problems.append(el("li", p.text, p.level));
  const attention = el("td");
  attention.append(problems);
  tr.append(
    stationCell(s),
    status,
    el("td", s.last_seen ? `${ago(s.seen_ago_s)} ago` : "never"),
    el("td", `${num(d.open)} / ${num(d.faulty)} / ${num(d.unknown)}`, "num"),
    el("td", num(s.alarms_open), "num"),
    el("td", rest),
    el("td", `${num(s.loans_out)} / ${num(s.loans_overdue)}`, "num"),
    el("td", num(s.lost_waiting), "num"),
    el("td", num(s.supplies_low), "num"),
    el("td", s.sync_lag_s === null ? "—" : ago(s.sync_lag_s), "num"),
    el("td", commandsText(s.commands), "num"),
    el("td", softwareText(s)),
    el("td", pi),
    attention,
  );
  return tr;
}

function renderFleet(fleet) {
  const c = fleet.counts;
  const summary = $("#summary");
  summary.replaceChildren(
    el("span", `在线 online ${c.online}`),
    el("span", `离线 offline ${c.offline}`),
    el("span", `未连接 never ${c.never}`),
    el("span", `共 total ${c.total}`),
  );
  // worst first: critical, then warning, then fine; offline before online within a level
  const rank = { critical: 0, warning: 1, ok: 2 };
  const order = { offline: 0, online: 1, never: 2 };
  const rows = [...fleet.stations].sort((a, b) => rank[a.health] - rank[b.health]
    || order[a.status] - order[b.status] || a.id.localeCompare(b.id));
  fill($("#stations tbody"), rows.map(stationRow), "No station is registered yet.");
}

function renderAlarms(alarms) {
  fill($("#alarms tbody"), alarms.map((a) => {
    const tr = el("tr");
    tr.append(el("td", a.station), el("td", a.type), el("td", a.subject),
      el("td", a.state), el("td", when(a.raised_at)), el("td", a.detail));
    return tr;
  }), "No open alarm.");
}

function renderOverdue(loans) {
  fill($("#overdue tbody"), loans.map((l) => {
    const tr = el("tr");
    tr.append(el("td", l.station), el("td", `${l.name_zh || ""} ${l.tool_id}`),
      el("td", l.locker), el("td", ago(l.overdue_s), "num"));
    return tr;
  }), "No overdue loan.");
}

function renderSupplies(items) {
  fill($("#supplies tbody"), items.map((s) => {
    const tr = el("tr");
    tr.append(el("td", s.station), el("td", `${s.name || ""} ${s.name_en || s.id}`),
      el("td", `${num(s.count)} ${s.unit || ""}`, "num"), el("td", num(s.threshold), "num"));
    return tr;
  }), "Every supply is above its restock line.");
}

const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const LAYOUT = {
  margin: { l: 50, r: 10, t: 10, b: 60 },
  legend: { orientation: "h", y: -0.28 },
  font: { family: "Noto Sans CJK SC, sans-serif", size: 12 },
  paper_bgcolor: "#ffffff",
  plot_bgcolor: "#ffffff",
};

function renderCharts(history) {
  const entries = Object.entries(history.stations);
  const hours = [...Array(24).keys()];
  Plotly.react("chart-occupancy", entries.map(([id, s]) => ({
    type: "scatter", mode: "lines+markers", name: id, x: hours,
    y: s.occupied_minutes_by_hour,
  })), { ...LAYOUT, xaxis: { title: { text: "hour (local)" }, dtick: 2 },
    yaxis: { title: { text: "min" }, rangemode: "tozero" } }, PLOT_CONFIG);
  Plotly.react("chart-loans", entries.map(([id, s]) => ({
    type: "bar", name: id, x: history.days.map((d) => d.slice(5)), y: s.loans_per_day,
  })), { ...LAYOUT, barmode: "group", xaxis: { type: "category", tickangle: 0 },
    yaxis: { title: { text: "loans" }, rangemode: "tozero" } },
  PLOT_CONFIG);
  Plotly.react("chart-sync", entries.map(([id, s]) => ({
    type: "scatter", mode: "lines", name: id,
    x: s.sync_lag.map((p) => new Date(p[0] * 1000)), y: s.sync_lag.map((p) => p[1]),
  })), { ...LAYOUT, yaxis: { title: { text: "seconds" }, rangemode: "tozero" } }, PLOT_CONFIG);
}

async function refresh() {
  clearTimeout(timer);
  try {
    const [fleet, alarms, overdue, supplies, history] = await Promise.all([
      api("/api/v1/fleet"),
      api("/api/v1/fleet/alarms"),
      api("/api/v1/fleet/loans/overdue"),
      api("/api/v1/fleet/supplies/low"),
      api(`/api/v1/fleet/history?days=${DAYS}`),
    ]);
    showBoard();
    $("#error").textContent = "";
    renderFleet(fleet);
    renderAlarms(alarms.alarms);
    renderOverdue(overdue.loans);
    renderSupplies(supplies.supplies);
    renderCharts(history);
    $("#refreshed").textContent = `更新 updated ${when(fleet.now)} · every ${REFRESH_S} s`;
    document.body.dataset.refreshed = String(fleet.now);
  } catch (err) {
    if (err instanceof Unauthorized) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(`Token refused: ${err.message}`);
      return;
    }
    $("#error").textContent = `Could not refresh (${err.message}); retrying.`;
  }
  timer = setTimeout(refresh, REFRESH_S * 1000);
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  refresh();
});

$("#logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin("");
});

if (sessionStorage.getItem(TOKEN_KEY)) refresh();
else showLogin("");
