// The ticket page's diagram: the ticket's own version in bpmn-js, with the path it took.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const MARKERS = { completed: "path-done", current: "path-current", flows: "path-taken" };

// The admins' cockpit: how many running instances wait at each element, as a badge on it.
function addCounts(viewer, processes, counts) {
  const overlays = viewer.get("overlays");
  const registry = viewer.get("elementRegistry");
  for (const { id: pid } of processes) {
    for (const [id, n] of Object.entries(counts[pid] || {})) {
      if (!registry.get(id)) continue;
      const badge = document.createElement("span");
      badge.className = "count-badge";
      badge.dataset.element = id;
      badge.textContent = String(n);
      overlays.add(id, "instance-count", { position: { top: -10, right: 10 }, html: badge });
    }
  }
}

// On an English page the server sends the version's label table (element id → English name):
// the diagram then reads in English too, without touching the stored file.
function renamed(xml, names) {
  if (!names || !Object.keys(names).length) return xml;
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  for (const node of doc.querySelectorAll("[id]")) {
    const name = names[node.getAttribute("id")];
    if (name && node.hasAttribute("name")) node.setAttribute("name", name);
  }
  return new XMLSerializer().serializeToString(doc);
}

async function show(container, xml, marks, counts, names) {
  const viewer = new NavigatedViewer({ container });
  await viewer.importXML(renamed(xml, names));
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const processes = viewer.getDefinitions().rootElements.filter((e) => e.$type === "bpmn:Process");
  const caption = container.closest("figure")?.querySelector("figcaption");
  if (caption) caption.textContent = processes.map((p) => p.name || p.id).join(" · ");
  for (const { id: pid } of processes) {
    const mark = marks[pid];
    if (!mark) continue;
    for (const [kind, marker] of Object.entries(MARKERS)) {
      for (const id of mark[kind] || []) {
        if (registry.get(id)) canvas.addMarker(id, marker);
      }
    }
  }
  if (counts) addCounts(viewer, processes, counts);
  canvas.zoom("fit-viewport", "auto");
  container.dataset.ready = "true";
  return viewer;
}

async function main() {
  const source = document.getElementById("diagram-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const files = Object.fromEntries(data.files.map((f) => [f.name, f.xml]));
  for (const container of document.querySelectorAll(".diagram[data-file]")) {
    try {
      await show(container, files[container.dataset.file], data.marks, data.counts, data.names);
    } catch (error) {
      container.dataset.ready = "error";
      container.textContent = String(error && error.message ? error.message : error);
    }
  }
  document.body.dataset.diagramReady = "true";
}

main();
