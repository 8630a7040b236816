// Chrome / Perfetto trace JSON (the "Trace Event Format"): one process per
// pseudo-channel (or engine), one thread per bank for DRAM commands, and a
// "phases" thread whose slices are the tagged phases (PARK_IN, MAC, ...).
// Open the file in ui.perfetto.dev or chrome://tracing.

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
  cat?: string;
}

export class ChromeTrace {
  private readonly events: ChromeEvent[] = [];
  private readonly named = new Set<string>();

  /** Names a process (pid) and thread (tid) once. */
  name(pid: number, process: string, tid?: number, thread?: string): void {
    const k = `${pid}/${tid ?? ''}`;
    if (this.named.has(k)) return;
    this.named.add(k);
    if (tid === undefined) this.events.push({ name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name: process } });
    else this.events.push({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name: thread } });
  }

  /** A slice from `startUs` lasting `durUs`. */
  slice(pid: number, tid: number, name: string, startUs: number, durUs: number, args?: Record<string, unknown>): void {
    this.events.push({ name, ph: 'X', pid, tid, ts: startUs, dur: Math.max(durUs, 0.001), args });
  }

  instant(pid: number, tid: number, name: string, atUs: number, args?: Record<string, unknown>): void {
    this.events.push({ name, ph: 'i', pid, tid, ts: atUs, s: 't', args });
  }

  get size(): number {
    return this.events.length;
  }

  toJSON(): string {
    return JSON.stringify({ displayTimeUnit: 'ns', traceEvents: this.events });
  }
}
