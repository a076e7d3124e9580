import { LRUCache } from 'lru-cache';
import { invalidationFor, type Invalidation } from './keys.js';

export interface ReadCacheOptions {
  /** Bound on the number of entries; 0 turns the cache off (every read goes to the database). */
  readonly maxEntries: number;
  /** Age after which an entry is dropped, counted from when it was loaded. */
  readonly ttlMs: number;
  /** Clock for the TTL (tests inject one); `performance` by default. */
  readonly perf?: { now(): number };
}

/** Counters since start-up, plus the current size. */
export interface CacheStats {
  readonly enabled: boolean;
  /** False while the invalidation feed is down: reads bypass the cache. */
  readonly active: boolean;
  readonly size: number;
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly hits: number;
  readonly misses: number;
  /** Reads that skipped the cache: `consistent` reads, or any read while inactive. */
  readonly bypassed: number;
  /** Loaded values put in the cache. */
  readonly stored: number;
  /** Loaded values not put in the cache because an invalidation overtook the load. */
  readonly discarded: number;
  readonly invalidations: number;
  readonly clears: number;
  readonly evictions: number;
}

/** Per-key bookkeeping, kept only while loads of the key are running. */
interface KeyState {
  /** Bumped by every invalidation of the key. */
  gen: number;
  loads: number;
  /** The load that concurrent misses may join. */
  flight: Ticket | undefined;
}

/** A load in progress: it may store its result only if nothing invalidated the key since it began. */
export interface Ticket {
  readonly key: string;
  readonly state: KeyState;
  readonly gen: number;
  readonly epoch: number;
  promise?: Promise<object>;
}

/**
 * The in-process read cache: bounded (LRU), every entry expires `ttlMs` after it was loaded,
 * and it never re-inserts a value that an invalidation has overtaken.
 *
 * The race it guards against: a read misses, queries the database, and before its result
 * comes back a change commits and its invalidation arrives; storing the result now would
 * put the pre-commit value back. Every load takes a ticket holding the key's generation
 * (bumped by each invalidation of the key) and the cache's epoch (bumped by each clear);
 * the result is stored only if both are unchanged when it arrives.
 *
 * The cache is *active* only while the invalidation feed (LISTEN/NOTIFY) is connected:
 * `suspend()` clears it and makes every read go to the database, `resume()` clears it
 * again (changes may have been missed in between) and turns it back on.
 *
 * Values must be immutable: one object is handed to every reader.
 */
export class ReadCache {
  readonly enabled: boolean;
  private readonly lru: LRUCache<string, object> | undefined;
  private readonly keyStates = new Map<string, KeyState>();
  private epoch = 0;
  private isActive = false;
  private hits = 0;
  private misses = 0;
  private bypassed = 0;
  private stored = 0;
  private discarded = 0;
  private invalidations = 0;
  private clears = 0;
  private evictions = 0;

  constructor(private readonly options: ReadCacheOptions) {
    this.enabled = options.maxEntries > 0;
    this.lru = this.enabled
      ? new LRUCache<string, object>({
          max: options.maxEntries,
          ttl: options.ttlMs,
          // The TTL bounds the age of the loaded value, so reading an entry must not renew it.
          updateAgeOnGet: false,
          // An injected clock is read on every lookup (lru-cache otherwise caches it for 1 ms).
          ...(options.perf ? { perf: options.perf, ttlResolution: 0 } : {}),
          dispose: (_value, _key, reason) => {
            if (reason === 'evict') this.evictions++;
          },
        })
      : undefined;
  }

  get active(): boolean {
    return this.isActive;
  }

  /**
   * The cached value of `key`, or the result of `load()` (stored for the next reader unless
   * an invalidation overtook it). Concurrent misses of one key share one load.
   * `consistent` skips the lookup (the load still refreshes the entry).
   */
  read<T extends object>(key: string, load: () => Promise<T>, consistent = false): Promise<T> {
    const lru = this.lru;
    if (lru === undefined || !this.isActive) {
      this.bypassed++;
      return load();
    }
    if (consistent) {
      this.bypassed++;
      return this.load(key, load, false);
    }
    const hit = lru.get(key);
    if (hit !== undefined) {
      this.hits++;
      return Promise.resolve(hit as T);
    }
    this.misses++;
    const flight = this.keyStates.get(key)?.flight;
    if (flight?.promise !== undefined && this.isCurrent(flight)) return flight.promise as Promise<T>;
    return this.load(key, load, true);
  }

  /**
   * Many keys at once: hits come from memory, and every miss is handed to ONE
   * `loadMissing` call (one database round trip). It returns what it found; a key it leaves
   * out is unknown, answered `undefined` and not cached. Each loaded value is stored under
   * the same rule as `read`. Duplicate keys are looked up once.
   */
  async readMany<T extends object>(
    keys: readonly string[],
    loadMissing: (missing: readonly string[]) => Promise<ReadonlyMap<string, T>>,
    consistent = false,
  ): Promise<Map<string, T | undefined>> {
    const found = new Map<string, T | undefined>();
    const missing = new Set<string>();
    const lru = this.lru;
    const lookup = lru !== undefined && this.isActive && !consistent;
    for (const key of keys) {
      if (found.has(key) || missing.has(key)) continue;
      const hit = lookup ? (lru.get(key) as T | undefined) : undefined;
      if (hit !== undefined) {
        this.hits++;
        found.set(key, hit);
      } else {
        if (lookup) this.misses++;
        else this.bypassed++;
        missing.add(key);
      }
    }
    if (missing.size === 0) return found;
    const keysToLoad = [...missing];
    const tickets = lru !== undefined && this.isActive ? keysToLoad.map((key) => this.begin(key)) : [];
    let loaded: ReadonlyMap<string, T>;
    try {
      loaded = await loadMissing(keysToLoad);
    } catch (err) {
      for (const ticket of tickets) this.settle(ticket, undefined);
      throw err;
    }
    for (const ticket of tickets) this.settle(ticket, loaded.get(ticket.key));
    for (const key of keysToLoad) found.set(key, loaded.get(key));
    return found;
  }

  /** The cached value of `key` if there is one (counts a hit or a miss). */
  get<T extends object>(key: string): T | undefined {
    if (this.lru === undefined || !this.isActive) {
      this.bypassed++;
      return undefined;
    }
    const hit = this.lru.get(key) as T | undefined;
    if (hit === undefined) this.misses++;
    else this.hits++;
    return hit;
  }

  /**
   * For loads that fetch many keys at once: take a ticket per key before the query, then
   * `settle` each with its result (or `undefined` for nothing to store).
   */
  begin(key: string): Ticket {
    let state = this.keyStates.get(key);
    if (state === undefined) {
      state = { gen: 0, loads: 0, flight: undefined };
      this.keyStates.set(key, state);
    }
    state.loads++;
    return { key, state, gen: state.gen, epoch: this.epoch };
  }

  settle(ticket: Ticket, value: object | undefined): void {
    const { state } = ticket;
    if (value !== undefined && this.lru !== undefined) {
      if (this.isActive && this.isCurrent(ticket)) {
        this.lru.set(ticket.key, value);
        this.stored++;
      } else {
        this.discarded++;
      }
    }
    if (state.flight === ticket) state.flight = undefined;
    if (--state.loads === 0 && this.keyStates.get(ticket.key) === state) this.keyStates.delete(ticket.key);
  }

  /** Drops what a committed change of `streamId` made stale. */
  invalidateStream(streamId: string): void {
    this.apply(invalidationFor(streamId));
  }

  apply(invalidation: Invalidation): void {
    if (this.lru === undefined) return;
    this.invalidations++;
    switch (invalidation.kind) {
      case 'all':
        this.clear();
        return;
      case 'keys':
        for (const key of invalidation.keys) this.invalidateKey(key);
        for (const prefix of invalidation.prefixes) {
          for (const key of [...this.lru.keys()]) if (key.startsWith(prefix)) this.lru.delete(key);
          for (const [key, state] of this.keyStates) if (key.startsWith(prefix)) this.bump(state);
        }
        return;
      default: {
        const never: never = invalidation;
        throw new Error(`unknown invalidation ${JSON.stringify(never)}`);
      }
    }
  }

  /** Drops everything, including the results of loads still running. */
  clear(): void {
    this.epoch++;
    this.clears++;
    this.lru?.clear();
    for (const state of this.keyStates.values()) state.flight = undefined;
  }

  /** The invalidation feed is down: clear and bypass until `resume()`. */
  suspend(): void {
    this.isActive = false;
    this.clear();
  }

  /** The invalidation feed is (back) up: start from empty, since changes may have been missed. */
  resume(): void {
    if (!this.enabled) return;
    this.clear();
    this.isActive = true;
  }

  stats(): CacheStats {
    return {
      enabled: this.enabled,
      active: this.isActive,
      size: this.lru?.size ?? 0,
      maxEntries: this.options.maxEntries,
      ttlMs: this.options.ttlMs,
      hits: this.hits,
      misses: this.misses,
      bypassed: this.bypassed,
      stored: this.stored,
      discarded: this.discarded,
      invalidations: this.invalidations,
      clears: this.clears,
      evictions: this.evictions,
    };
  }

  private load<T extends object>(key: string, load: () => Promise<T>, shareable: boolean): Promise<T> {
    const ticket = this.begin(key);
    let loading: Promise<T>;
    try {
      loading = load();
    } catch (err) {
      this.settle(ticket, undefined);
      return Promise.reject(err as Error);
    }
    const promise = loading.then(
      (value) => {
        this.settle(ticket, value);
        return value;
      },
      (err: unknown) => {
        this.settle(ticket, undefined);
        throw err;
      },
    );
    if (shareable) {
      ticket.promise = promise;
      ticket.state.flight = ticket;
    }
    return promise;
  }

  private invalidateKey(key: string): void {
    this.lru?.delete(key);
    const state = this.keyStates.get(key);
    if (state !== undefined) this.bump(state);
  }

  private bump(state: KeyState): void {
    state.gen++;
    state.flight = undefined;
  }

  private isCurrent(ticket: Ticket): boolean {
    return ticket.gen === ticket.state.gen && ticket.epoch === this.epoch;
  }
}
