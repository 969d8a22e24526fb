// Live values from GET /api/v1/live/stream. EventSource cannot send an Authorization
// header, and the API takes the token in the header only (a token in a URL ends up in
// logs), so the stream is read with fetch() and parsed here. A dropped or refused
// connection is reported and retried with a growing pause (1 s, 2 s, 4 s … 15 s).

import { bearer } from "./api.js";

const MAX_PAUSE = 15000;

export class LiveStream {
  /** onValue(LiveValue) for each event; onState(state, detail) on every change. */
  constructor(onValue, onState) {
    this.onValue = onValue;
    this.onState = onState;
    this.pause = 1000;
    this.controller = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  async connect() {
    this.controller = new AbortController();
    this.onState("connecting", "connecting…");
    try {
      const response = await fetch("/api/v1/live/stream", {
        headers: { ...bearer(), Accept: "text/event-stream" },
        signal: this.controller.signal,
        cache: "no-store",
      });
      if (!response.ok) throw new Error(`the stream answered ${response.status}`);
      this.onState("live", "live");
      this.pause = 1000;
      await this.read(response.body.getReader());
      throw new Error("the server ended the stream");
    } catch (err) {
      if (this.stopped) return;
      const wait = this.pause;
      this.pause = Math.min(this.pause * 2, MAX_PAUSE);
      this.onState("lost", `connection lost, retrying in ${Math.round(wait / 1000)} s`, err);
      setTimeout(() => this.stopped || this.connect(), wait);
    }
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        this.dispatch(block);
      }
    }
  }

  /** One SSE event block: `event:` and `data:` lines (comments and ids ignored). */
  dispatch(block) {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (event !== "value" || !data.length) return;
    try {
      this.onValue(JSON.parse(data.join("\n")));
    } catch (err) {
      console.warn("live: unreadable event", err);
    }
  }
}
