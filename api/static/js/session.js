// The API token: from ?token= on the first load (the link `meterledger run` prints), kept
// in sessionStorage for this tab only, and removed from the address bar at once so it
// lands in neither history nor a bookmark nor a screenshot.

const KEY = "meterledger.token";

export function takeToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
