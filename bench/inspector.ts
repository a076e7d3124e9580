/**
 * A child process's memory, read through its inspector (the child runs with
 * `--inspect=127.0.0.1:<port>`): a full garbage collection first, then
 * `process.memoryUsage()`. Heap after a forced GC counts what is still referenced; RSS also
 * counts heap the collector has not given back and native memory (nghttp2's per-stream
 * state, socket buffers), so the benches report both.
 */
export interface ChildMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export class ChildInspector {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  /** Connects to the inspector listening on `port` (retrying while the child starts). */
  static async connect(port: number, timeoutMs = 30_000): Promise<ChildInspector> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        const url = targets[0]?.webSocketDebuggerUrl;
        if (url === undefined) throw new Error('no inspector target');
        const ws = new WebSocket(url);
        await new Promise<void>((resolve, reject) => {
          ws.addEventListener('open', () => resolve(), { once: true });
          ws.addEventListener('error', () => reject(new Error('inspector connection failed')), { once: true });
        });
        return new ChildInspector(ws);
      } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Two full collections (the second frees what finalizers of the first let go), then the usage. */
  async memoryAfterGc(): Promise<ChildMemory> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
    const out = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string };
    };
    return JSON.parse(out.result.value) as ChildMemory;
  }

  /**
   * A heap snapshot (after a full GC) summed by constructor or closure name: how many live
   * objects and their own (shallow) bytes. Heavy (the snapshot is parsed here), so opt-in.
   */
  async heapByName(): Promise<Map<string, { count: number; bytes: number }>> {
    await this.call('HeapProfiler.collectGarbage');
    const chunks: string[] = [];
    const onChunk = (ev: MessageEvent) => {
      const msg = JSON.parse(String(ev.data)) as { method?: string; params?: { chunk: string } };
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(msg.params!.chunk);
    };
    this.ws.addEventListener('message', onChunk);
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.ws.removeEventListener('message', onChunk);
    }
    const snap = JSON.parse(chunks.join('')) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const [iType, iName, iSize] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
    const out = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < snap.nodes.length; i += fields.length) {
      const type = types[snap.nodes[i + iType]!]!;
      const name = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + iName]!]!}${type === 'closure' ? '()' : ''}` : `(${type})`;
      const e = out.get(name) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += snap.nodes[i + iSize]!;
      out.set(name, e);
    }
    return out;
  }

  /** Starts V8's sampling CPU profiler in the child (`interval` in microseconds). */
  async startProfile(intervalUs = 500): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.call('Profiler.start');
  }

  /** Stops the profiler; the profile as JSON, in the `.cpuprofile` format Chrome's DevTools open. */
  async stopProfile(): Promise<string> {
    const out = (await this.call('Profiler.stop')) as { profile: unknown };
    return JSON.stringify(out.profile);
  }

  close(): void {
    this.ws.close();
  }
}
