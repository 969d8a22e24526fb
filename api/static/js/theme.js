// Light or dark: the system's choice unless the user picked one with the toggle, which is
// remembered in localStorage (a preference, not data).

const KEY = "meterledger.theme";

function systemDark() {
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

function isDark() {
  const chosen = document.documentElement.dataset.theme;
  return chosen ? chosen === "dark" : systemDark();
}

function label(button) {
  const dark = isDark();
  button.textContent = dark ? "Light" : "Dark";
  button.setAttribute("aria-pressed", String(dark));
  button.setAttribute("aria-label", dark ? "Switch to light theme" : "Switch to dark theme");
}

export function initTheme(button) {
  const chosen = localStorage.getItem(KEY);
  if (chosen) document.documentElement.dataset.theme = chosen;
  label(button);
  button.addEventListener("click", () => {
    const next = isDark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem(KEY, next);
    label(button);
    window.dispatchEvent(new CustomEvent("themechange"));
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => label(button));
}
