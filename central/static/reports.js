// The office's report page: choose days, stations and rows per period; see each view as a
// table; download the workbook (every view, one sheet each) or the shown view as CSV.
// The report's text (station names, tool and supply ids) is inserted as text, never as HTML.
"use strict";

let report = null;
let shown = "summary";

function isoDate(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function query() {
  const q = new URLSearchParams({
    from: $("#from").value, to: $("#to").value, period: $("#period").value,
  });
  for (const box of document.querySelectorAll("#stations input:checked")) {
    q.append("station", box.value);
  }
  return q;
}

function renderTable() {
  const view = report.views.find((v) => v.name === shown);
  const head = el("tr");
  for (const c of view.columns) head.append(el("th", c.label));
  $("#table thead").replaceChildren(head);
  const rows = view.rows.map((r) => {
    const tr = el("tr");
    if (r.station === "*") tr.className = "fleet";
    for (const c of view.columns) {
      const v = r[c.key];
      tr.append(el("td", v, typeof v === "number" ? "num" : ""));
    }
    return tr;
  });
  if (!rows.length) {
    const tr = el("tr");
    const td = el("td", "Nothing in these days.", "muted");
    td.colSpan = view.columns.length;
    tr.append(td);
    rows.push(tr);
  }
  $("#table tbody").replaceChildren(...rows);
  for (const tab of document.querySelectorAll("#views button")) {
    tab.classList.toggle("active", tab.dataset.view === shown);
  }
}

function renderTabs() {
  $("#views").replaceChildren(...report.views.map((v) => {
    const b = el("button", v.title);
    b.type = "button";
    b.dataset.view = v.name;
    b.addEventListener("click", () => { shown = v.name; renderTable(); });
    return b;
  }));
}

function renderChart() {
  const hours = report.views.find((v) => v.name === "hours").rows
    .filter((r) => r.station === "*");
  Plotly.react("chart-hours", [{
    type: "bar", x: hours.map((r) => r.hour), y: hours.map((r) => r.served),
    name: "people served", marker: { color: "#12324a" },
  }], {
    margin: { l: 50, r: 10, t: 10, b: 40 },
    font: { family: "Noto Sans CJK SC, sans-serif", size: 12 },
    xaxis: { title: { text: "hour (local)" }, dtick: 1 },
    yaxis: { title: { text: "served" }, rangemode: "tozero" },
  }, { displayModeBar: false, responsive: true });
}

async function load() {
  $("#error").textContent = "";
  try {
    report = await api(`/api/v1/reports?${query()}`);
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(`Token refused: ${err.message}`);
    $("#error").textContent = `Could not load the report: ${err.message}`;
    return;
  }
  $("#scope").textContent =
    `${report.from} … ${report.to} · ${report.timezone} · rows per ${report.period}`;
  renderTabs();
  renderTable();
  renderChart();
  document.body.dataset.loaded = `${report.from}/${report.to}/${report.period}`;
}

async function start() {
  let stations;
  try {
    stations = (await api("/api/v1/stations")).stations;
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(`Token refused: ${err.message}`);
    $("#error").textContent = `Could not list the stations: ${err.message}`;
  }
  $("#login").hidden = true;
  $("#board").hidden = false;
  const box = $("#stations");
  box.replaceChildren(el("legend", "站点 Stations (none ticked: all)"));
  for (const s of stations || []) {
    const label = el("label");
    const input = el("input");
    input.type = "checkbox";
    input.value = s.id;
    label.append(input, ` ${s.id} ${s.name}`);
    box.append(label);
  }
  if (!$("#from").value) {
    const now = new Date();
    const first = new Date(now.getFullYear(), now.getMonth() - 1, 1);
    const last = new Date(now.getFullYear(), now.getMonth(), 0);
    $("#from").value = isoDate(first);
    $("#to").value = isoDate(last);
  }
  await load();
}

function showLogin(message) {
  $("#board").hidden = true;
  $("#login").hidden = false;
  sessionStorage.removeItem(TOKEN_KEY);
  $("#login-error").textContent = message || "";
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  $("#token").value = "";
  start();
});

$("#choose").addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});

async function save(path, name) {
  try {
    await download(path, name);
  } catch (err) {
    $("#error").textContent = `Download failed: ${err.message}`;
  }
}

$("#xlsx").addEventListener("click", () => {
  const q = query();
  save(`/api/v1/reports.xlsx?${q}`, `report-${q.get("from")}_${q.get("to")}.xlsx`);
});

$("#csv").addEventListener("click", () => {
  const q = query();
  q.set("format", "csv");
  save(`/api/v1/reports/${shown}?${q}`, `report-${shown}-${q.get("from")}_${q.get("to")}.csv`);
});

if (sessionStorage.getItem(TOKEN_KEY)) start();
else showLogin("");
