// The reports page's charts (ECharts, only the parts we use): the trend per month, SLA
// compliance against the targets, workload by stage and person, the satisfaction mix.
// The figures come from the page (#report-data); clicking a bar opens the tickets behind it.
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, PieChart, ScatterChart, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent,
  CanvasRenderer]);

const RED = "#c0392b";
const GREEN = "#2e7d32";
const pct = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);

function trend(data) {
  const names = ["timely_rate", "satisfaction_rate", "callback_rate", "dispatch_success_rate", "completeness_rate",
    "answer_rate"];
  return {
    tooltip: { trigger: "axis", valueFormatter: (v) => (v === null ? "—" : `${v}%`) },
    legend: { type: "scroll", bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 48 },
    xAxis: { type: "category", data: data.trend.map((m) => m.month) },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: names.map((name) => ({
      name: data.names[name], type: "line", connectNulls: false, data: data.trend.map((m) => pct(m[name])),
    })),
  };
}

function sla(data) {
  const rates = data.tiles.filter((t) => t.denominator !== undefined && t.target !== null);
  return {
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
    grid: { left: 40, right: 16, top: 16, bottom: 72 },
    xAxis: { type: "category", data: rates.map((t) => t.label), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      {
        type: "bar", name: "%",
        data: rates.map((t) => ({ value: pct(t.value) ?? 0, kpi: t.id, itemStyle: { color: t.missed ? RED : GREEN } })),
      },
      {
        type: "scatter", name: data.labels.target, symbol: "rect", symbolSize: [24, 3], itemStyle: { color: "#333" },
        data: rates.map((t) => pct(t.target)),
      },
    ],
  };
}

function workload(data) {
  const stage = data.workload.stage;
  const person = data.workload.person;
  return {
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: [{ left: 8, right: "52%", top: 16, bottom: 40, containLabel: true },
      { left: "52%", right: 8, top: 16, bottom: 40, containLabel: true }],
    xAxis: [{ type: "value", gridIndex: 0 }, { type: "value", gridIndex: 1 }],
    yAxis: [{ type: "category", gridIndex: 0, data: stage.map((s) => s[0]) },
      { type: "category", gridIndex: 1, data: person.map((p) => p[0]) }],
    series: [
      { type: "bar", name: data.labels.stage, xAxisIndex: 0, yAxisIndex: 0, data: stage.map((s) => s[1]) },
      { type: "bar", name: data.labels.person, xAxisIndex: 1, yAxisIndex: 1, data: person.map((p) => p[1]) },
    ],
  };
}

function satisfaction(data) {
  return {
    tooltip: { trigger: "item" },
    legend: { bottom: 0 },
    color: ["#2e7d32", "#66bb6a", "#f9a825", RED],
    series: [{ type: "pie", radius: ["35%", "65%"], data: data.satisfaction.map(([name, value]) => ({ name, value })) }],
  };
}

const OPTIONS = { trend, sla, workload, satisfaction };

function main() {
  const source = document.getElementById("report-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  for (const el of document.querySelectorAll(".chart[data-chart]")) {
    const chart = echarts.init(el);
    chart.setOption(OPTIONS[el.dataset.chart](data));
    chart.on("click", (event) => {
      const kpi = event.data && event.data.kpi;
      if (kpi && data.links[kpi]) window.location.href = data.links[kpi];
    });
    window.addEventListener("resize", () => chart.resize());
  }
}

main();
