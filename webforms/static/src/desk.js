// The desk's small scripts: htmx, the SLA countdowns, filter auto-submit, intake look-up fill.
import htmx from "htmx.org";

window.htmx = htmx;

// --- SLA countdowns: every <time class="countdown" data-due data-start> ticks each second;
// amber when a quarter of the time or less is left, red once it has passed.
function labels() {
  const d = document.body.dataset; // translated by the server
  return { left: d.left || "left", over: d.over || "overdue", day: d.day || "d" };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function format(ms, dayLabel) {
  let s = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const clock = `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
  return days ? `${days}${dayLabel} ${clock}` : clock;
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time.countdown[data-due]")) {
    const due = Date.parse(el.dataset.due);
    if (Number.isNaN(due)) continue;
    const start = Date.parse(el.dataset.start || "");
    const left = due - now;
    const l = labels();
    el.textContent = left >= 0 ? `${l.left} ${format(left, l.day)}` : `${l.over} ${format(left, l.day)}`;
    let state = "ok";
    if (left < 0) state = "late";
    else if (!Number.isNaN(start) && due > start && left <= (due - start) / 4) state = "near";
    el.classList.toggle("is-near", state === "near");
    el.classList.toggle("is-late", state === "late");
    const row = el.closest("tr");
    if (row) {
      row.classList.remove("sla-ok", "sla-near", "sla-late", "sla-none");
      row.classList.add(`sla-${state}`);
    }
  }
}

// --- filters that submit themselves when a select changes
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form && event.target.matches("select")) form.requestSubmit();
});

// --- intake: a chosen earlier caller fills the contact fields
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill]");
  if (!button) return;
  const form = button.closest("form");
  const values = JSON.parse(button.dataset.fill);
  for (const [name, value] of Object.entries(values)) {
    const input = form && form.elements.namedItem(name);
    if (input && value) input.value = value;
  }
  const list = button.closest("#lookup");
  if (list) list.innerHTML = "";
  if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
  const next = form && form.elements.namedItem("title");
  if (next && next.focus) next.focus();
});

// --- intake: typing over a caller picked from the customer archive drops the archive link
document.addEventListener("input", (event) => {
  const form = event.target.closest("#intake-form");
  if (!form || !["organisation", "reporter_name", "phone", "email"].includes(event.target.name)) return;
  for (const hidden of form.querySelectorAll("[data-archive-link]")) hidden.value = "";
});

// --- the bell menu closes on a click elsewhere or Escape
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details.bell[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.bell[open]")) menu.open = false;
});

tick();
setInterval(tick, 1000);
document.addEventListener("htmx:afterSwap", tick);
