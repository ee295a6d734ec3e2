/* The widgets of the sp generation, rendered from the page JSON (refssi/sp/widgets.py describes the shapes). */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;

  SP.pairs = function (list) {
    return el("div", { class: "sp-fields" }, list.map((p) => el("div", { class: "sp-field" },
      el("span", { class: "sp-field-label", id: `${p.key}_label`, text: p.label }),
      el("span", { class: "sp-field-value", id: p.key },
        p.stamp ? el("time", { datetime: `${p.stamp}Z`, title: `${p.stamp} UTC`, text: p.value })
          : p.value))));
  };

  const widgets = {
    message(w) {
      return el("section", { class: "panel sp-widget", "data-widget": "message" },
        el("h1", { text: w.heading }), el("p", { text: w.text }));
    },

    tiles(w) {
      return el("section", { class: "sp-widget", "data-widget": "tiles" },
        w.confirmation ? el("div", { class: "alert alert-success", role: "status", id: "login_confirmation", text: w.confirmation }) : null,
        el("h1", { text: w.heading }), el("p", { text: w.intro }),
        el("ul", { class: "tiles" }, w.tiles.map((t) => el("li", {}, el("a", { class: "tile", href: t.url, text: t.label })))));
    },

    facts(w) {
      const t = w.table;
      return el("section", { class: "panel sp-widget", "data-widget": "facts" },
        el("h1", { text: w.heading }), SP.pairs(w.pairs),
        w.links.length ? el("p", {}, w.links.map((l) => el("a", { class: "btn-primary", href: l.url, text: l.label }))) : null,
        t ? el("table", { class: "list", "aria-label": t.label },
          el("thead", {}, el("tr", {}, t.columns.map((c) => el("th", { scope: "col", text: c })))),
          el("tbody", {}, t.rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: c })))))) : null);
    },

    producer(w) { return SP.producer(w); }, // sp_producer.js
    ticket(w) { return SP.ticket(w); }, // sp_ticket.js
    requests(w) { return SP.requests(w); }, // sp_requests.js
    account(w) { return SP.account(w); }, // sp_account.js
    record(w) { return SP.record(w); }, // sp_record.js
  };

  SP.render = function (w) {
    const make = widgets[w.type];
    return make ? make(w) : el("div", { class: "alert alert-warning", text: `Unknown widget ${w.type}` });
  };
})();
