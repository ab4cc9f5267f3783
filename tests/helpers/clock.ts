/**
 * A fake clock for timer logic. Exercises that deal with time take a `Clock`
 * (now / setTimeout / clearTimeout); the tests hand them this one and move time by hand,
 * so "after 2 * MSL" or "RTO doubles" is exact and instant, never a real sleep.
 */

/** The clock shape exercises accept (structurally; each chapter declares its own copy). */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Pending {
  id: number;
  at: number;
  callback: () => void;
}

/** A clock that only moves when the test says so. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private timers: Pending[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** How many timers are waiting. */
  pendingCount(): number {
    return this.timers.length;
  }

  /** When the next timer fires, or undefined. */
  nextAt(): number | undefined {
    return this.timers.reduce<number | undefined>((m, t) => (m === undefined || t.at < m ? t.at : m), undefined);
  }

  /** Move time forward by `ms`, firing every timer that comes due, in order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = target;
  }

  /** Fire timers until none is left, at most `limit` of them (guards against a timer that re-arms forever). */
  runAll(limit = 10_000): number {
    let fired = 0;
    while (this.timers.length && fired < limit) {
      this.advance(this.nextAt()! - this.time);
      fired++;
    }
    return fired;
  }
}
