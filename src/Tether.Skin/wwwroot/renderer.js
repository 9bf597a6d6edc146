// Tether RemoteSkin renderer: draws a dialog's declarative view, applies keyed patches, and sends the user's events.
// Plain ES module, no build step. The socket (connect, ping, reconnect with back-off, resume) lives in Skin alone;
// panels (one per dialog) never touch the socket, they call the send function they are given.
// The wire contract is documented in src/Tether.Skin/README.md.

const HOOK_FRAMES = 500;

/** Connects `root` to the web node and opens the application's start dialog. Returns the live skin. */
export function connect(root, options) {
  const skin = new Skin(root, options || {});
  skin.start();
  return skin;
}

class Skin {
  constructor(root, options) {
    this.root = root;
    this.app = options.app;
    this.url = options.url || new URL("./ws", import.meta.url).href.replace(/^http/, "ws");
    this.panels = new Map();
    this.attempt = 0;
    this.closedByServer = false;
    this.resumeKey = "tether-skin-resume:" + this.app;
    this.errors = el("div", "tether-errors");
    this.toasts = el("div", "tether-toasts");
    this.dialogs = el("div", "tether-dialogs");
    root.replaceChildren(this.errors, this.dialogs, this.toasts);
    // A test hook: what arrived, so tests can count patch sizes on the wire.
    this.hook = window.tetherSkin = { frames: [], errors: [], connected: false, skin: this };
  }

  start() {
    const resume = sessionStorage.getItem(this.resumeKey);
    const url = this.url + "?app=" + encodeURIComponent(this.app) + (resume ? "&resume=" + encodeURIComponent(resume) : "");
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => { this.attempt = 0; this.hook.connected = true; };
    socket.onmessage = (e) => this.receive(e.data);
    socket.onclose = (e) => this.closed(e);
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }

  receive(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch (err) {
      this.showError("bad-frame", "The server sent a frame that is not JSON: " + err.message);
      return;
    }
    const record = { t: f.t, d: f.d, bytes: data.length };
    if (f.t === "patch" && Array.isArray(f.ops)) {
      record.ops = f.ops.map((o) => ({ op: o.op, key: o.key || (o.node && o.node.key) || o.parent || null }));
    }
    this.hook.frames.push(record);
    if (this.hook.frames.length > HOOK_FRAMES) this.hook.frames.shift();
    switch (f.t) {
      case "ping":
        this.send({ t: "pong" });
        break;
      case "welcome":
        if (f.resume) sessionStorage.setItem(this.resumeKey, f.resume); else sessionStorage.removeItem(this.resumeKey);
        for (const panel of this.panels.values()) panel.element.remove();
        this.panels.clear();
        if (!f.resumed) this.send({ t: "open", dialog: f.start, ref: "start" });
        break;
      case "opened": {
        const panel = new Panel(f.d, f.dialog, (kind, key, value, form) => this.send({ t: "event", d: f.d, kind, key, value, form }), this);
        this.panels.set(f.d, panel);
        this.dialogs.append(panel.element);
        break;
      }
      case "patch": {
        const panel = this.panels.get(f.d);
        if (panel) panel.apply(f.ops || []);
        break;
      }
      case "closed": {
        const panel = this.panels.get(f.d);
        if (panel) { panel.element.remove(); this.panels.delete(f.d); }
        break;
      }
      case "error":
        this.showError(f.code, f.text);
        break;
    }
  }

  closed(e) {
    this.hook.connected = false;
    this.hook.closeCode = e.code;
    if (e.code === 1000 || e.code === 1008 || e.code === 1009 || e.code === 4000) {
      // Closed on purpose (ended, refused, too big, silent too long): say so; a fresh start needs a reload.
      this.showError("closed", "The connection was closed (" + e.code + (e.reason ? ": " + e.reason : "") + ").");
      sessionStorage.removeItem(this.resumeKey);
      return;
    }
    const delay = Math.min(5000, 250 * 2 ** this.attempt++);
    setTimeout(() => this.start(), delay);
  }

  showError(code, text) {
    this.hook.errors.push({ code, text });
    const line = el("div", "tether-error");
    line.dataset.code = code || "";
    line.setAttribute("role", "alert");
    line.textContent = text;
    this.errors.append(line);
    while (this.errors.childElementCount > 5) this.errors.firstElementChild.remove();
  }

  toast(text, level) {
    const t = el("div", "tether-toast " + (level || "info"));
    t.setAttribute("role", "status");
    t.textContent = text;
    this.toasts.append(t);
    setTimeout(() => t.remove(), 4000);
  }
}

/** One dialog's view: builds elements from nodes, keeps key → element, applies patches. */
class Panel {
  constructor(id, name, emit, skin) {
    this.id = id;
    this.emit = emit;
    this.skin = skin;
    this.keys = new Map();
    this.timers = new Map();
    this.element = el("section", "tether-dialog");
    this.element.dataset.dialog = name;
    this.element.dataset.id = id;
  }

  apply(ops) {
    for (const op of ops) {
      switch (op.op) {
        case "render":
          this.keys.clear();
          this.element.replaceChildren(this.build(op.node));
          break;
        case "replace": {
          const old = this.keys.get(op.key);
          if (!old || this.morph(old, op.node)) break;
          this.forget(old);
          old.replaceWith(this.build(op.node));
          break;
        }
        case "set":
          this.set(op);
          break;
        case "append": {
          const parent = this.keys.get(op.parent);
          if (parent) (parent.tetherBody || parent).append(this.build(op.node));
          break;
        }
        case "remove": {
          const old = this.keys.get(op.key);
          if (old) { this.forget(old); old.remove(); }
          break;
        }
        case "toast":
          this.skin.toast(op.text, op.level);
          break;
      }
    }
  }

  set(op) {
    const target = this.keys.get(op.key);
    if (!target) return;
    if (target.tetherInput) {
      const input = target.tetherInput;
      if ("value" in op && input.value !== op.value) input.value = op.value;
      if ("error" in op) {
        target.tetherError.textContent = op.error || "";
        target.classList.toggle("invalid", !!op.error);
        input.setAttribute("aria-invalid", op.error ? "true" : "false");
      }
    } else if ("text" in op) {
      target.textContent = op.text;
    }
  }

  // A replaced node whose element can be kept is updated in place: the same element (and, in a list, table or stack,
  // each child with the same key) stays under the user's pointer and keeps its focus, so a click that began before
  // the patch still lands. Returns false when the element must be built anew.
  morph(e, node) {
    if (!e || e.dataset.type !== node.type || e.dataset.key !== node.key) return false;
    switch (node.type) {
      case "heading":
      case "text":
      case "item":
      case "button":
        if (e.textContent !== (node.text == null ? "" : node.text)) e.textContent = node.text == null ? "" : node.text;
        return true;
      case "row": {
        const cells = node.cells || [];
        if (e.children.length !== cells.length) {
          e.replaceChildren(...cells.map((c) => text("td", "t-cell", c)));
          return true;
        }
        cells.forEach((c, i) => {
          const content = c == null ? "" : String(c);
          if (e.children[i].textContent !== content) e.children[i].textContent = content;
        });
        return true;
      }
      case "table": {
        if (e.tetherColumns !== JSON.stringify(node.columns || [])) return false;
        const paging = pagingOf(node);
        if (e.tetherPaging !== paging) {
          if (e.tetherPager) e.tetherPager.remove();
          e.tetherPager = this.pager(node);
          e.tetherPaging = paging;
          if (e.tetherPager) e.append(e.tetherPager);
        }
        this.reconcile(e.tetherBody, node.children || []);
        return true;
      }
      case "list":
      case "tab":
      case "stack":
        this.reconcile(e, node.children || []);
        return true;
      default:
        return false;
    }
  }

  // Makes parent's children the nodes' elements, in order: an element with the same key is kept (and morphed),
  // the rest is built, and children no longer named are removed.
  reconcile(parent, nodes) {
    const named = new Set(nodes.map((n) => n.key));
    for (const child of [...parent.children]) {
      if (!named.has(child.dataset.key)) { this.forget(child); child.remove(); }
    }
    let at = parent.firstElementChild;
    for (const node of nodes) {
      let e = this.keys.get(node.key);
      if (!e || e.parentNode !== parent || !this.morph(e, node)) {
        if (e && e.parentNode === parent) {
          if (e === at) at = e.nextElementSibling;
          this.forget(e);
          e.remove();
        }
        e = this.build(node);
      }
      if (e === at) at = at.nextElementSibling;
      else parent.insertBefore(e, at);
    }
  }

  forget(element) {
    if (element.dataset && element.dataset.key) this.keys.delete(element.dataset.key);
    for (const inner of element.querySelectorAll("[data-key]")) this.keys.delete(inner.dataset.key);
  }

  build(node) {
    const e = this.create(node);
    e.dataset.key = node.key;
    e.dataset.type = node.type;
    this.keys.set(node.key, e);
    return e;
  }

  children(parent, node) {
    for (const child of node.children || []) parent.append(this.build(child));
  }

  create(node) {
    switch (node.type) {
      case "heading": return text("h2", "t-heading", node.text);
      case "text": return text("p", "t-text", node.text);
      case "item": return text("li", "t-item", node.text);
      case "button": {
        const b = text("button", "t-button", node.text);
        b.type = "submit"; // inside a form it submits the form (with its key as the submitter); elsewhere it is a click
        b.addEventListener("click", () => { if (!b.closest("form")) this.emit("click", node.key); });
        return b;
      }
      case "field": return this.field(node);
      case "form": {
        const f = el("form", "t-form");
        f.noValidate = true;
        this.children(f, node);
        f.addEventListener("submit", (e) => {
          e.preventDefault();
          const values = {};
          for (const input of f.querySelectorAll("input[name]")) values[input.name] = input.value;
          this.emit("submit", node.key, e.submitter ? e.submitter.closest("[data-key]").dataset.key : null, values);
        });
        return f;
      }
      case "list": {
        const ul = el("ul", "t-list");
        this.children(ul, node);
        return ul;
      }
      case "table": return this.table(node);
      case "row": {
        const tr = el("tr", "t-row");
        for (const cell of node.cells || []) tr.append(text("td", "t-cell", cell));
        tr.addEventListener("click", () => this.emit("click", node.key)); // a row is a button too: the dialog may ignore it
        return tr;
      }
      case "tabs": return this.tabs(node);
      case "chart": return chart(node);
      case "tab": {
        const panel = el("div", "t-tab-panel");
        panel.setAttribute("role", "tabpanel");
        this.children(panel, node);
        return panel;
      }
      default: {
        const div = el("div", "t-stack");
        this.children(div, node);
        return div;
      }
    }
  }

  field(node) {
    const wrap = el("div", "t-field");
    const label = el("label", "t-label");
    const caption = text("span", "t-caption", node.label || "");
    const input = el("input", "t-input");
    input.name = node.key;
    input.type = node.input || "text";
    input.value = node.value || "";
    const error = text("div", "t-error", node.error || "");
    error.setAttribute("aria-live", "polite");
    if (node.error) { wrap.classList.add("invalid"); input.setAttribute("aria-invalid", "true"); }
    label.append(caption, input);
    wrap.append(label, error);
    wrap.tetherInput = input;
    wrap.tetherError = error;
    if (node.live > 0) {
      input.addEventListener("input", () => {
        clearTimeout(this.timers.get(node.key));
        this.timers.set(node.key, setTimeout(() => this.emit("input", node.key, input.value), node.live));
      });
    }
    input.addEventListener("change", () => { if (!input.closest("form")) this.emit("change", node.key, input.value); });
    input.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" && !input.closest("form")) || e.key === "Escape") this.emit("key", node.key, e.key);
    });
    return wrap;
  }

  table(node) {
    const wrap = el("div", "t-table");
    const table = el("table");
    const head = el("tr");
    for (const c of node.columns || []) head.append(text("th", null, c));
    const thead = el("thead");
    thead.append(head);
    const body = el("tbody");
    this.children(body, node);
    table.append(thead, body);
    wrap.append(table);
    wrap.tetherBody = body;
    wrap.tetherColumns = JSON.stringify(node.columns || []);
    wrap.tetherPaging = pagingOf(node);
    wrap.tetherPager = this.pager(node);
    if (wrap.tetherPager) wrap.append(wrap.tetherPager);
    return wrap;
  }

  pager(node) {
    if (!(node.page > 0)) return null;
    const pages = Math.max(1, Math.ceil((node.total || 0) / Math.max(1, node.pageSize || 1)));
    const pager = el("div", "t-pager");
    const prev = text("button", "t-prev", "‹ Previous");
    const next = text("button", "t-next", "Next ›");
    prev.type = next.type = "button";
    prev.disabled = node.page <= 1;
    next.disabled = node.page >= pages;
    prev.addEventListener("click", () => this.emit("page", node.key, String(node.page - 1)));
    next.addEventListener("click", () => this.emit("page", node.key, String(node.page + 1)));
    pager.append(prev, text("span", "t-page", "Page " + node.page + " of " + pages), next);
    return pager;
  }

  tabs(node) {
    const wrap = el("div", "t-tabs");
    const bar = el("div", "t-tabbar");
    bar.setAttribute("role", "tablist");
    const panels = el("div", "t-tab-panels");
    const show = (key) => {
      for (const b of bar.children) b.setAttribute("aria-selected", b.dataset.tab === key ? "true" : "false");
      for (const p of panels.children) p.hidden = p.dataset.key !== key;
    };
    for (const tab of node.children || []) {
      const b = text("button", "t-tab-button", tab.label || tab.key);
      b.type = "button";
      b.dataset.tab = tab.key;
      b.setAttribute("role", "tab");
      b.addEventListener("click", () => { show(tab.key); this.emit("tab", node.key, tab.key); });
      bar.append(b);
      panels.append(this.build(tab));
    }
    wrap.tetherBody = panels;
    wrap.append(bar, panels);
    show(node.active || (node.children && node.children[0] && node.children[0].key));
    return wrap;
  }
}

/** What a table's pager depends on: a change rebuilds the pager. */
function pagingOf(node) {
  return [node.page || 0, node.pageSize || 0, node.total || 0].join(",");
}

const SVG = "http://www.w3.org/2000/svg";

/** A line chart drawn as inline SVG: the label, the latest value, and the values scaled to the box. */
function chart(node) {
  const values = node.values || [];
  const wrap = el("figure", "t-chart");
  const caption = el("figcaption");
  caption.append(text("span", "t-chart-label", node.label || ""), text("span", "t-chart-last", values.length ? String(values[values.length - 1]) : ""));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 300 80");
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1e-9, ...values);
  const min = Math.min(0, ...values);
  const step = values.length > 1 ? 300 / (values.length - 1) : 0;
  const points = values.map((v, i) => (i * step).toFixed(1) + "," + (78 - ((v - min) / (max - min)) * 74).toFixed(1)).join(" ");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("class", "t-chart-line");
  svg.append(line);
  wrap.append(caption, svg);
  return wrap;
}

function el(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function text(tag, cls, content) {
  const e = el(tag, cls);
  e.textContent = content == null ? "" : content;
  return e;
}
