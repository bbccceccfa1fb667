// The rule-table editor: dmn-js's modeler, opened on the decision table (not the DRD).
// modeler.js calls window.DeskDmn.create(container) when a .dmn file tab is opened.
import DmnModeler from "dmn-js/lib/Modeler";
import { dmnZhTranslateModule } from "./dmn-zh.js";

// Chinese unless the page is in English (the modeler page sets data-locale on #canvas).
function isChinese() {
  const canvas = document.querySelector("#canvas");
  const locale = (canvas && canvas.dataset.locale) || document.documentElement.lang || "";
  return locale.toLowerCase().startsWith("zh");
}

function create(container) {
  // dmn-js merges `common` options under each view's, but not their additionalModules: name each view
  const additionalModules = isChinese() ? [dmnZhTranslateModule] : [];
  const views = ["drd", "decisionTable", "literalExpression", "boxedExpression"];
  const modeler = new DmnModeler({ container, ...Object.fromEntries(views.map((v) => [v, { additionalModules }])) });

  async function open(xml) {
    await modeler.importXML(xml);
    const table = modeler.getViews().find((view) => view.type === "decisionTable");
    if (table) await modeler.open(table);
  }

  async function xml() {
    const { xml: text } = await modeler.saveXML({ format: true });
    return text;
  }

  // Select a rule (row) or a decision by id, for the validation list.
  function reveal(id) {
    const cell = container.querySelector(`[data-row-id="${CSS.escape(id)}"], [data-element-id="${CSS.escape(id)}"]`);
    if (cell) {
      cell.classList.add("has-problem");
      cell.scrollIntoView({ block: "center" });
    }
  }

  return { modeler, open, xml, reveal };
}

window.DeskDmn = { create };
