// The KPI dashboard's charts (/kpis/): ECharts, only the parts drawn (lines, bars, a grid
// and a legend, on a canvas). The data is the page's json_script #kpi-charts; each chart
// has its table beside it, so the page reads without this. A click on a point or a bar
// opens the cases behind it (each series carries the link of each point).
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, CanvasRenderer]);

const TRENDS = new Set(["week", "month"]);

function draw(element, spec) {
  const trend = TRENDS.has(element.dataset.chart);
  const chart = echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    legend: trend ? { type: "scroll", top: 0 } : { show: false },
    grid: { left: 48, right: 16, top: trend ? 40 : 16, bottom: 32 },
    xAxis: { type: "category", data: spec.labels, axisLabel: { hideOverlap: true } },
    yAxis: spec.percent
      ? { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
      : { type: "value", minInterval: 1 },
    series: spec.series.map((s) => ({
      name: s.name,
      type: trend ? "line" : "bar",
      data: s.data,
      connectNulls: false,
      cursor: "pointer",
      label: trend ? { show: false } : { show: true, position: "top" },
    })),
  });
  chart.on("click", (params) => {
    const link = spec.series[params.seriesIndex]?.links?.[params.dataIndex];
    if (link) window.location.assign(link);
  });
  element.classList.add("drawn");
  return chart;
}

function start() {
  const data = document.getElementById("kpi-charts");
  if (!data) return;
  const specs = JSON.parse(data.textContent);
  const charts = [];
  for (const element of document.querySelectorAll("[data-chart]")) {
    const spec = specs[element.dataset.chart];
    if (!spec || !spec.labels.length) {
      element.classList.add("empty");
      continue;
    }
    charts.push(draw(element, spec));
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
