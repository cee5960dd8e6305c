// <gridfeed-schedule championship="…" | competitor="…" kinds="race,qualifying" limit="5">
// A dependency-free web component: the next sessions from gridfeed's public JSON API (CORS),
// in the viewer's own time zone, rendered into its shadow DOM. Theme it with CSS custom
// properties on the element: --gridfeed-bg, --gridfeed-fg, --gridfeed-muted,
// --gridfeed-accent, --gridfeed-border, --gridfeed-font.
const API = new URL("/api/v1/", import.meta.url);
const SITE = new URL("/", import.meta.url);
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const CSS = `:host{display:block;font:15px/1.45 var(--gridfeed-font,system-ui,sans-serif);color:var(--gridfeed-fg,#1a1a1a);background:var(--gridfeed-bg,transparent)}
h2{font-size:1rem;margin:0 0 .4rem}a{color:var(--gridfeed-accent,#b00020)}
ol{list-style:none;margin:0;padding:0}li{display:flex;flex-wrap:wrap;gap:0 .6rem;padding:.3rem 0;border-bottom:1px solid var(--gridfeed-border,#d6d6d6)}
.what{font-weight:600}.where,.note{color:var(--gridfeed-muted,#555)}.when{margin-left:auto}`;

// "Sun 4 June 05:30 EDT", the site's own wording (static/local-time.js).
const whenFormat = new Intl.DateTimeFormat("en-US", {
  weekday: "short", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
  hourCycle: "h23", timeZoneName: "short",
});
function whenText(date) {
  const p = Object.fromEntries(whenFormat.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.weekday} ${p.day} ${p.month} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}
const dayFormat = new Intl.DateTimeFormat("en-GB", {
  weekday: "short", day: "numeric", month: "long", timeZone: "UTC",
});

function until(start, now) {
  const minutes = Math.floor((start - now) / 60000);
  if (minutes < 0) return "started";
  const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60);
  if (days) return `in ${days} day${days === 1 ? "" : "s"} ${hours} h`;
  if (hours) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.max(minutes, 1)} min`;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

class GridfeedSchedule extends HTMLElement {
  static get observedAttributes() { return ["championship", "competitor", "kinds", "limit"]; }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    const style = el("style");
    style.textContent = CSS;
    this.body = el("div", "body");
    this.shadowRoot.append(style, this.body);
  }

  // Attributes set at upgrade and several changed at once make one request, not one each.
  connectedCallback() { this.schedule(); }
  attributeChangedCallback() { if (this.isConnected) this.schedule(); }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => { this.pending = false; this.load(); });
  }

  scope() {
    for (const name of ["championship", "competitor"]) {
      const slug = (this.getAttribute(name) || "").trim();
      if (slug && SLUG.test(slug)) return [name, slug];
    }
    return null;
  }

  async load() {
    const scope = this.scope();
    if (!scope) return this.say("Set championship=\"…\" or competitor=\"…\".");
    const kinds = (this.getAttribute("kinds") || "").split(",").map((k) => k.trim()).filter(Boolean);
    const limit = Math.min(Math.max(parseInt(this.getAttribute("limit") || "5", 10) || 5, 1), 20);
    const url = new URL("sessions", API);
    url.searchParams.set(scope[0], scope[1]);
    url.searchParams.set("upcoming", "true");
    url.searchParams.set("limit", "200");
    try {
      const response = await fetch(url, { mode: "cors", credentials: "omit" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const items = (await response.json()).items
        .filter((s) => s.status === "scheduled" && (!kinds.length || kinds.includes(s.kind)))
        .sort((a, b) => (a.start_utc || a.local_date + "T23:59Z").localeCompare(b.start_utc || b.local_date + "T23:59Z"))
        .slice(0, limit);
      this.render(scope, items);
    } catch (error) {
      this.say(`The schedule could not be loaded (${error.message}).`);
    }
  }

  say(text) { this.body.replaceChildren(el("p", "note", text)); }

  render([kind, slug], items) {
    const page = new URL(`${kind === "championship" ? "championships" : "competitors"}/${slug}`, SITE);
    const heading = el("h2");
    const link = el("a", "", "Next sessions");
    link.href = page.href;
    link.target = "_blank";
    link.rel = "noopener";
    heading.append(link);
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    heading.append(el("span", "note", ` (your time: ${zone.replace(/_/g, " ")})`));
    const list = el("ol");
    const now = Date.now();
    for (const s of items) {
      const item = el("li");
      item.append(el("span", "what", s.name), el("span", "where", `Round ${s.round}`));
      const when = el("time", "when");
      if (s.start_utc) {
        const start = new Date(s.start_utc);
        when.dateTime = s.start_utc;
        when.textContent = `${whenText(start)} · ${until(start, now)}`;
      } else {
        when.textContent = s.local_date ? `${dayFormat.format(new Date(s.local_date))}, time TBC` : "date TBC";
      }
      item.append(when);
      list.append(item);
    }
    const parts = [heading, items.length ? list : el("p", "note", "No sessions ahead are published yet.")];
    this.body.replaceChildren(...parts);
  }
}

if (!customElements.get("gridfeed-schedule")) customElements.define("gridfeed-schedule", GridfeedSchedule);
