/* A select2 v3 imitation over a hidden <select>, as ServiceNow's spChoiceList directive draws choice variables:
   #s2id_<id> > a.select2-choice > span.select2-chosen; on click a dropdown #select2-drop with a search box
   (input.select2-input) and .select2-result-label options. The form model hears only the selections made
   here (onSelect); a native change of the hidden select is stopped and ignored, as the directive does. */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;
  let counter = 0;
  let openDrop = null;

  function closeDrop() {
    if (!openDrop) return;
    openDrop.container.classList.remove("select2-dropdown-open", "select2-container-active");
    openDrop.choice.setAttribute("aria-expanded", "false");
    openDrop.drop.remove();
    openDrop = null;
  }
  document.addEventListener("mousedown", (e) => {
    if (openDrop && !openDrop.drop.contains(e.target) && !openDrop.container.contains(e.target)) closeDrop();
  });

  /* select: the hidden <select>; options: [{value, label}]; onSelect(value) tells the form model */
  SP.select2 = function (select, labelText, onSelect) {
    const n = ++counter;
    select.classList.add("select2-offscreen");
    select.tabIndex = -1;
    select.addEventListener("change", (e) => { if (!e.select2) e.stopImmediatePropagation(); });
    const chosen = el("span", { class: "select2-chosen", id: `select2-chosen-${n}` });
    const choice = el("a", { href: "javascript:void(0)", class: "select2-choice", tabindex: "0", role: "combobox",
      "aria-haspopup": "listbox", "aria-expanded": "false", "aria-label": labelText },
      chosen, el("span", { class: "select2-arrow", "aria-hidden": "true" }, el("b")));
    const container = el("div", { class: "select2-container sp-select2", id: `s2id_${select.id}` }, choice);

    function show() {
      const opt = select.options[select.selectedIndex];
      chosen.textContent = opt ? opt.text : "";
    }
    function pick(value) {
      select.value = value;
      const ev = new Event("change", { bubbles: true });
      ev.select2 = true; // what select2 itself triggers, so the directive's handler lets it through
      select.dispatchEvent(ev);
      show();
      closeDrop();
      choice.focus();
      onSelect(value);
    }
    function open() {
      if (openDrop) { const same = openDrop.container === container; closeDrop(); if (same) return; }
      const input = el("input", { type: "text", class: "select2-input", id: `s2id_autogen${n}_search`, autocomplete: "off",
        role: "combobox", "aria-expanded": "true", "aria-autocomplete": "list", "aria-owns": `select2-results-${n}`,
        "aria-label": `Search ${labelText}` });
      const results = el("ul", { class: "select2-results", id: `select2-results-${n}`, role: "listbox" });
      const drop = el("div", { id: "select2-drop", class: "select2-drop select2-drop-active select2-with-searchbox" },
        el("div", { class: "select2-search" }, input), results);
      function fill() {
        const q = input.value.trim().toLowerCase();
        const items = Array.from(select.options).filter((o) => o.value !== "" || q === "")
          .filter((o) => o.text.toLowerCase().includes(q));
        results.replaceChildren(...(items.length ? items.map((o, i) => el("li", { class: "select2-result select2-result-selectable", role: "presentation" },
          el("div", { class: "select2-result-label", role: "option", id: `select2-result-label-${n}-${i}`,
            "aria-selected": String(o.value === select.value), text: o.text,
            onmousedown: (e) => e.preventDefault(), onclick: () => pick(o.value) })))
          : [el("li", { class: "select2-no-results", text: "No matches found" })]));
      }
      input.addEventListener("input", fill);
      input.addEventListener("keydown", (e) => {
        if (e.key === "Escape") { closeDrop(); choice.focus(); }
        if (e.key === "Enter") { e.preventDefault(); const first = results.querySelector(".select2-result-label"); if (first) first.click(); }
      });
      fill();
      const r = container.getBoundingClientRect();
      drop.style.left = `${r.left + window.scrollX}px`;
      drop.style.top = `${r.bottom + window.scrollY}px`;
      drop.style.width = `${r.width}px`;
      document.body.append(drop);
      container.classList.add("select2-dropdown-open", "select2-container-active");
      choice.setAttribute("aria-expanded", "true");
      openDrop = { container, choice, drop };
      input.focus();
    }
    choice.addEventListener("click", (e) => { e.preventDefault(); open(); });
    choice.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " " || e.key === "ArrowDown") { e.preventDefault(); open(); } });
    show();
    return { container, refresh: show };
  };
})();
