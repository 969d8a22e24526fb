// The dashboard's entry: log in, pick a site, route between views by the URL's #hash,
// and keep one live stream open for every view. Plain ES modules, no build step (see
// api/dashboard.py for why).

import { all, get, onUnauthorized, useToken } from "./api.js";
import { loadCatalog } from "./catalog.js";
import { errorText, fill, h } from "./dom.js";
import { LiveStream } from "./live.js";
import { forgetToken, saveToken, takeToken } from "./session.js";
import { initTheme } from "./theme.js";
import * as charts from "./views/charts.js";
import * as devices from "./views/devices.js";
import * as flow from "./views/flow.js";
import * as kpis from "./views/kpis.js";
import * as ledger from "./views/ledger.js";
import * as overview from "./views/overview.js";

const VIEWS = { overview, flow, charts, kpis, ledger, devices };
const $ = (id) => document.getElementById(id);

const state = { me: null, sites: [], site: null, catalogs: new Map(), cleanup: null, stream: null };
const subscribers = new Set();

function liveState(status, text) {
  const el = $("live-status");
  el.dataset.state = status;
  el.textContent = status === "live" ? "● live" : `○ ${text}`;
  el.title = text;
}

function onValue(value) {
  for (const fn of subscribers) fn(value);
  if (!state.streamed) {
    state.streamed = true;
    performance.mark("first-stream-value"); // the browser test prints it
  }
}

const live = {
  /** Call fn(LiveValue) for every live value until the returned function is called. */
  subscribe(fn) {
    subscribers.add(fn);
    return () => subscribers.delete(fn);
  },
};

async function catalog() {
  const key = state.site.key;
  if (!state.catalogs.has(key)) state.catalogs.set(key, loadCatalog(state.site));
  return state.catalogs.get(key);
}

async function show() {
  const name = (location.hash || "#overview").slice(1).split("/")[0];
  const view = VIEWS[name] || overview;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === `#${name in VIEWS ? name : "overview"}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  subscribers.clear();
  const root = fill($("view"));
  root.dataset.view = name;
  try {
    const ctx = { me: state.me, site: state.site, sites: state.sites, live, catalog, route: location.hash };
    state.cleanup = (await view.render(root, ctx)) || null;
    root.dataset.ready = "true";
  } catch (err) {
    console.error(err);
    root.append(errorText(err));
  }
}

function askForToken(message) {
  state.stream?.stop();
  $("nav").hidden = true;
  $("logout").hidden = true;
  fill($("view"));
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

async function start(token) {
  useToken(token);
  try {
    [state.me, state.sites] = await Promise.all([get("/me"), all("/sites")]);
  } catch (err) {
    forgetToken();
    askForToken(err.status === 401 ? "That token is unknown or revoked." : String(err.message));
    return;
  }
  $("login").hidden = true;
  $("nav").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${state.me.name} · ${state.me.role}${state.me.site ? ` · ${state.me.site}` : ""}`;
  const select = fill($("site"), state.sites.map((s) => h("option", { value: s.key }, s.name || s.key)));
  select.closest("label").hidden = state.sites.length < 2;
  state.site = state.sites[0] || null;
  select.addEventListener("change", () => {
    state.site = state.sites.find((s) => s.key === select.value);
    show();
  });
  if (!state.site) {
    fill($("view"), h("p", {}, "No site is configured yet."));
    return;
  }
  state.stream = new LiveStream(onValue, liveState);
  state.stream.start();
  window.addEventListener("hashchange", show);
  // Charts take their colours when drawn: draw the view again in the other theme.
  window.addEventListener("themechange", show);
  await show();
}

function boot() {
  initTheme($("theme"));
  onUnauthorized(() => {
    if (!state.me) return; // logging in: start() says why the token was refused
    state.me = null;
    forgetToken();
    askForToken("The API no longer accepts this token: log in again.");
  });
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    saveToken(token);
    start(token);
  });
  $("logout").addEventListener("click", () => {
    forgetToken();
    location.hash = "";
    location.reload();
  });
  const token = takeToken();
  if (token) start(token);
  else askForToken();
}

boot();
