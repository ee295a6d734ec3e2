/* My Requests (my-requests-v2): a View filter, a search bar and a list of record links; each change is a route. */
(function () {
  "use strict";
  const SP = window.SP;
  const el = SP.el;
  const portal = document.body.dataset.portal;

  SP.requests = function (w) {
    const go = (view, q) => {
      const params = new URLSearchParams({ id: "my_requests", view });
      if (q) params.set("q", q);
      SP.route(`${portal}?${params}`);
    };
    const view = el("select", { id: "sp-requests-view", name: "view" },
      w.view.choices.map((c) => el("option", { value: c.value, text: c.label, selected: c.value === w.view.value })));
    const search = el("input", { type: "search", id: "sp-requests-search", name: "q", value: w.search.value });
    view.addEventListener("change", () => go(view.value, search.value.trim()));
    const bar = el("form", { class: "filters", role: "search", novalidate: true },
      el("label", { for: "sp-requests-view", text: w.view.label }), view,
      el("label", { for: "sp-requests-search", text: w.search.label }), search,
      el("button", { type: "submit", class: "btn-secondary", text: w.search.submit }));
    bar.addEventListener("submit", (e) => { e.preventDefault(); go(view.value, search.value.trim()); });
    const p = w.pager;
    return el("section", { class: "panel sp-widget", "data-widget": "my-requests", "aria-labelledby": "sp-requests-heading" },
      el("h1", { id: "sp-requests-heading", text: w.heading }), bar,
      el("p", { role: "status", id: "list_summary", text: w.summary }),
      w.rows.length ? el("ul", { class: "sp-requests", id: "sp-requests", "aria-label": w.heading }, w.rows.map((r) => el("li", { class: "sp-request" },
        el("a", { href: r.url }, el("span", { class: "sp-request-number", text: r.number }), " ",
          el("span", { class: "sp-request-title", text: r.title })),
        el("span", { class: "small", text: ` ${r.state} · ${r.priority} · ${r.updated}` })))) : null,
      p.pages > 1 ? el("nav", { "aria-label": "Pages", class: "pager" },
        p.prev_url ? el("a", { href: p.prev_url, text: p.previous }) : null,
        el("span", { text: `Page ${p.page} of ${p.pages}` }),
        p.next_url ? el("a", { href: p.next_url, text: p.next }) : null) : null);
  };
})();
