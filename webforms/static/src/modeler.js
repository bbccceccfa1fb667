// The process owners' modeler: bpmn-js with the Camunda 7 properties panel for .bpmn files,
// dmn-js (dmn.js) for .dmn rule tables, a text editor for the <key>.scenarios.json tests.
// One bundle of files (a draft or a deployed version) is edited at a time; the server
// validates, saves, runs the tests and deploys. The versions diff page uses the viewer.
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { zhTranslateModule } from "./modeler-zh.js";

const $ = (selector) => document.querySelector(selector);

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
  } catch {
    return "";
  }
}

async function post(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({ message: res.statusText }));
  if (!res.ok) throw Object.assign(new Error(data.message || res.statusText), { data, status: res.status });
  return data;
}

// The modeler speaks the page's language: Chinese unless Flask-Babel chose English
// (the template sets data-locale from the current locale; <html lang> as a fallback).
function isChinese() {
  const canvas = $("#canvas");
  const locale = (canvas && canvas.dataset.locale) || document.documentElement.lang || "";
  return locale.toLowerCase().startsWith("zh");
}

// Fit the whole diagram into the canvas, to the right of the palette (which floats over
// the canvas's left edge), so that no element or its context pad hides behind it.
function fitBesidePalette(modeler) {
  const canvas = modeler.get("canvas");
  canvas.zoom("fit-viewport", "auto");
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height) return;
  const palette = canvas.getContainer().querySelector(".djs-palette");
  const left = palette ? palette.offsetLeft + palette.offsetWidth + 16 : 20;
  const pad = 20;
  const scale = Math.min((outer.width - left - pad) / inner.width, (outer.height - 2 * pad) / inner.height, 1);
  if (!(scale > 0)) return;
  const free = outer.width - left - pad - inner.width * scale;
  canvas.viewbox({
    x: inner.x - (left + free / 2) / scale,
    y: inner.y - (outer.height - inner.height * scale) / 2 / scale,
    width: outer.width / scale,
    height: outer.height / scale,
  });
}

// Engine messages come as "中文 / English": show the page language's half (like the server's engine_text).
const SEAM = /(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s?\/ /;
function inPageLanguage(message) {
  const text = String(message ?? "");
  const match = SEAM.exec(text);
  if (!match) return text;
  return isChinese() ? text.slice(0, match.index).trim() : text.slice(match.index + match[0].length).trim();
}

function kindOf(name) {
  if (name.endsWith(".bpmn")) return "bpmn";
  if (name.endsWith(".dmn")) return "dmn";
  return "json";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// --------------------------------------------------------------------------- the modeler page

class Workbench {
  constructor(data, texts) {
    this.data = data;
    this.texts = texts;
    this.files = { ...data.files };
    this.current = null;
    this.problemIds = [];
    this.bpmn = new BpmnModeler({
      container: "#canvas",
      propertiesPanel: { parent: "#properties" },
      additionalModules: [
        BpmnPropertiesPanelModule,
        BpmnPropertiesProviderModule,
        CamundaPlatformPropertiesProviderModule,
        CamundaBehaviorsModule,
        ...(isChinese() ? [zhTranslateModule] : []),
      ],
      moddleExtensions: { camunda: camundaModdle },
    });
    this.dmn = null;
    this.dirty = false; // edits not saved yet: leaving the page asks, deploying saves them first
    this.bpmn.on("commandStack.changed", () => this.changed());
    $("#json-editor").addEventListener("input", () => this.changed());
  }

  changed() {
    if (this.opening) return; // importing a file is not an edit
    this.dirty = true;
    document.body.dataset.dirty = "true";
  }

  saved() {
    this.dirty = false;
    document.body.dataset.dirty = "false";
  }

  names() {
    const order = { bpmn: 0, dmn: 1, json: 2 };
    return Object.keys(this.files).sort((a, b) => order[kindOf(a)] - order[kindOf(b)] || a.localeCompare(b));
  }

  renderTabs() {
    const tabs = $("#file-tabs");
    tabs.replaceChildren(
      ...this.names().map((name) =>
        el(
          "button",
          {
            type: "button",
            class: "tab" + (name === this.current ? " active" : ""),
            "data-file": name,
            onclick: () => this.open(name),
          },
          name,
        ),
      ),
    );
  }

  // The text of the open file, read back from its editor.
  async flush() {
    const name = this.current;
    if (!name) return;
    const kind = kindOf(name);
    if (kind === "bpmn") this.files[name] = (await this.bpmn.saveXML({ format: true })).xml;
    else if (kind === "dmn" && this.dmn) this.files[name] = await this.dmn.xml();
    else if (kind === "json") this.files[name] = $("#json-editor").value;
  }

  async open(name) {
    if (name === this.current) return;
    await this.flush();
    this.opening = true;
    try {
      await this.show(name);
    } finally {
      this.opening = false;
    }
    document.body.dataset.openFile = name;
  }

  async show(name) {
    this.current = name;
    const kind = kindOf(name);
    $("#bpmn-area").hidden = kind !== "bpmn";
    $("#dmn-area").hidden = kind !== "dmn";
    $("#json-area").hidden = kind !== "json";
    $("#properties").hidden = kind !== "bpmn";
    this.renderTabs();
    document.body.dataset.openFile = "";
    if (kind === "bpmn") {
      await this.bpmn.importXML(this.files[name]);
      fitBesidePalette(this.bpmn);
      this.markProblems();
    } else if (kind === "dmn") {
      if (!this.dmn) {
        this.dmn = window.DeskDmn.create($("#dmn-canvas"));
        this.dmn.modeler.on("views.changed", () => this.watchDmn());
      }
      await this.dmn.open(this.files[name]);
      this.watchDmn();
    } else {
      $("#json-editor").value = this.files[name];
    }
  }

  // dmn-js has one command stack per view: listen on the active one
  watchDmn() {
    const viewer = this.dmn && this.dmn.modeler.getActiveViewer();
    if (!viewer || viewer.__deskWatched) return;
    viewer.__deskWatched = true;
    viewer.get("eventBus").on("elements.changed", () => this.changed());
  }

  status(text, kind = "info") {
    const box = $("#modeler-status");
    box.textContent = text;
    box.className = "modeler-status " + kind;
  }

  async save() {
    await this.flush();
    const result = await post(this.data.urls.save, { files: this.files, version_id: this.data.versionId });
    this.saved();
    if (this.data.mode === "version") {
      window.location = result.url;
      return false;
    }
    this.status(this.texts.saved.replace("{time}", result.saved_at), "ok"); // the desk's time zone, from the server
    return true;
  }

  // --- validation: the list, and the elements marked on the canvas

  async validate() {
    await this.flush();
    const { problems } = await post(this.data.urls.validate, { files: this.files });
    this.problems = problems;
    this.renderProblems();
    this.markProblems();
    const errors = problems.filter((p) => p.severity === "error").length;
    this.status(
      problems.length ? this.texts.problems.replace("{n}", errors).replace("{w}", problems.length - errors)
        : this.texts.noProblems,
      errors ? "error" : problems.length ? "warn" : "ok",
    );
  }

  renderProblems() {
    const list = $("#problems");
    list.replaceChildren(
      ...(this.problems || []).map((p) =>
        el(
          "li",
          { class: `problem problem-${p.severity}`, "data-element": p.element || "", "data-file": p.file || "" },
          el("span", { class: `badge ${p.severity === "error" ? "danger" : "warn"}` }, p.severity === "error" ? this.texts.error : this.texts.warning),
          " ",
          el(
            "button",
            { type: "button", class: "link", onclick: () => this.reveal(p) },
            [p.file, p.element].filter(Boolean).join(" · ") || "—",
          ),
          " ",
          el("span", {}, inPageLanguage(p.message)),
        ),
      ),
    );
    $("#problems-card").hidden = !(this.problems || []).length;
  }

  markProblems() {
    if (!this.current || kindOf(this.current) !== "bpmn") return;
    const canvas = this.bpmn.get("canvas");
    const registry = this.bpmn.get("elementRegistry");
    for (const id of this.problemIds) if (registry.get(id)) canvas.removeMarker(id, "has-problem");
    this.problemIds = (this.problems || []).filter((p) => p.file === this.current && p.element && registry.get(p.element)).map((p) => p.element);
    for (const id of this.problemIds) canvas.addMarker(id, "has-problem");
  }

  async reveal(problem) {
    if (problem.file && this.files[problem.file] !== undefined) await this.open(problem.file);
    if (!problem.element) return;
    if (kindOf(this.current) === "bpmn") {
      const element = this.bpmn.get("elementRegistry").get(problem.element);
      if (!element) return;
      this.bpmn.get("canvas").addMarker(problem.element, "has-problem");
      this.bpmn.get("selection").select(element);
      this.bpmn.get("canvas").scrollToElement(element);
    } else if (kindOf(this.current) === "dmn") {
      this.dmn.reveal(problem.element);
    }
  }

  // --- process tests

  // Tests run on what is on screen and never save it: a draft with unsaved edits is tested
  // as edited (the saved draft and its recorded result stay as they were).
  async runTests() {
    this.status(this.texts.testing, "info");
    await this.flush();
    let report;
    if (this.data.mode === "draft" && !this.dirty) {
      report = await post(this.data.urls.test, {});
    } else {
      report = await post(this.data.urls.testFiles, { files: this.files });
    }
    this.renderReport(report);
    this.status(
      report.passed ? this.texts.testsPassed.replace("{n}", report.count) : this.texts.testsFailed.replace("{n}", report.failed || report.problems.length),
      report.passed ? "ok" : "error",
    );
  }

  renderReport(report) {
    const card = $("#tests-card");
    if (!report) return;
    card.hidden = false;
    card.dataset.passed = String(report.passed);
    const rows = report.results.map((r) =>
      el(
        "tr",
        { class: r.passed ? "test-pass" : "test-fail" },
        el("td", {}, el("span", { class: `badge ${r.passed ? "ok" : "danger"}` }, r.passed ? this.texts.pass : this.texts.fail)),
        el("td", { class: "mono small" }, r.process),
        el("td", {}, r.name),
        el("td", { class: "small" }, r.path.join(" → ")),
        el("td", { class: "small" }, inPageLanguage(r.difference || "")),
      ),
    );
    $("#tests-body").replaceChildren(...rows);
    $("#tests-problems").replaceChildren(...report.problems.map((p) => el("li", {}, inPageLanguage(p))));
  }

  // --- files in and out

  async download() {
    await this.flush();
    const name = this.current;
    const blob = new Blob([this.files[name]], { type: kindOf(name) === "json" ? "application/json" : "application/xml" });
    const link = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async upload(fileList) {
    let last = null;
    for (const file of fileList) {
      if (!/(\.(bpmn|dmn|scenarios\.json)|^labels\.en\.json)$/.test(file.name)) {
        this.status(this.texts.badFile.replace("{name}", file.name), "error");
        continue;
      }
      await this.flush();
      this.files[file.name] = await file.text();
      if (file.name === this.current) this.current = null; // re-import the replaced file
      last = file.name;
      this.changed();
    }
    if (last) {
      this.renderTabs();
      await this.open(last);
      this.status(this.texts.uploaded.replace("{name}", last), "ok");
    }
  }
}

function guard(workbench, action) {
  return async (event) => {
    if (event) event.preventDefault();
    workbench.status(workbench.texts.working, "busy");
    try {
      await action();
    } catch (error) {
      workbench.status(inPageLanguage(error.message || String(error)), "error");
      if (error.data && error.data.problems) {
        workbench.problems = error.data.problems.map((p) => ({ severity: "error", ...p }));
        workbench.renderProblems();
        workbench.markProblems();
      }
    }
  };
}

async function startWorkbench() {
  const data = JSON.parse($("#modeler-data").textContent);
  const texts = JSON.parse($("#modeler-texts").textContent);
  const workbench = new Workbench(data, texts);
  window.deskModeler = workbench; // for the browser tests and the curious
  $("#btn-save").addEventListener("click", guard(workbench, () => workbench.save()));
  $("#btn-validate").addEventListener("click", guard(workbench, () => workbench.validate()));
  $("#btn-test").addEventListener("click", guard(workbench, () => workbench.runTests()));
  $("#btn-download").addEventListener("click", guard(workbench, () => workbench.download()));
  $("#upload-file").addEventListener("change", guard(workbench, async () => {
    await workbench.upload($("#upload-file").files);
    $("#upload-file").value = "";
  }));
  const deploy = $("#deploy-form");
  if (deploy) {
    // Deploy in place: unsaved edits are saved first (only then is the admin the draft's
    // author); a refusal is shown on this page, with the draft and its author unchanged.
    deploy.addEventListener("submit", guard(workbench, async () => {
      if (workbench.dirty) await workbench.save();
      const res = await fetch(deploy.action, {
        method: "POST", body: new FormData(deploy), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      const result = await res.json().catch(() => ({ message: res.statusText }));
      if (res.ok) {
        workbench.leaving = true;
        window.location = result.url;
        return;
      }
      if (result.report) workbench.renderReport(result.report);
      const box = $("#deploy-error");
      box.textContent = inPageLanguage(result.message);
      box.hidden = false;
      throw Object.assign(new Error(result.message), { data: result });
    }));
  }
  // leaving with unsaved edits asks first
  window.addEventListener("beforeunload", (event) => {
    if (!workbench.dirty || workbench.leaving) return;
    event.preventDefault();
    event.returnValue = "";
  });
  workbench.renderReport(data.report);
  if (data.problems) {
    workbench.problems = data.problems.map((p) => ({ severity: "error", ...p }));
    workbench.renderProblems();
  }
  await workbench.open(data.main || workbench.names()[0]);
  document.body.dataset.modelerReady = "true";
}

// --------------------------------------------------------------------------- the versions diff page

async function showDiff() {
  const data = JSON.parse($("#diff-data").textContent);
  for (const container of document.querySelectorAll(".diff-diagram[data-file]")) {
    const { file, side } = container.dataset;
    const xml = data[side][file];
    if (!xml) continue;
    const viewer = new NavigatedViewer({ container });
    await viewer.importXML(xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const marks = data.marks[file] || {};
    const kinds = side === "old" ? ["removed", "changed"] : ["added", "changed"];
    for (const kind of kinds) {
      for (const id of marks[kind] || []) if (registry.get(id)) canvas.addMarker(id, `diff-${kind}`);
    }
    canvas.zoom("fit-viewport", "auto");
  }
  document.body.dataset.diffReady = "true";
}

if ($("#modeler-data")) startWorkbench();
if ($("#diff-data")) showDiff();
