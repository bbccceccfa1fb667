// The rule-table editor: dmn-js's modeler, opened on the decision table (not the DRD).
// modeler.js calls window.DeskDmn.create(container) when a .dmn file tab is opened.
import DmnModeler from "dmn-js/lib/Modeler";

function create(container) {
  const modeler = new DmnModeler({ container });

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
