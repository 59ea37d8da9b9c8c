import { DUE, UNSCHEDULED } from './token-cache-entry.js';

/** What the schedule keeps on each entry: its key and where it sits. */
export interface Schedulable {
  /** The instant the entry is held for. */
  dueAt: number;
  /** Heap index, or `UNSCHEDULED` / `DUE`. */
  scheduleSlot: number;
}

/**
 * Entries ordered by their next instant of interest: a binary min-heap (O(log n) to add, move or
 * remove one entry) plus the list of entries whose instant has passed and that wait for a sweep.
 * Each entry knows its own slot, so nothing is ever searched. A timer or a sweep takes the entries
 * that are due and never looks at the others.
 */
export class TokenRefreshSchedule<E extends Schedulable> {
  private readonly heap: E[] = [];
  private readonly due = new Set<E>();

  /** Entries held, in the heap or due. */
  get size(): number {
    return this.heap.length + this.due.size;
  }

  /** The earliest instant in the heap; Infinity when it is empty. */
  get nextAt(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].dueAt;
  }

  /** Holds `entry` for `at`, whether it was held before (for another instant) or not. */
  arm(entry: E, at: number): void {
    if (entry.scheduleSlot === DUE) this.due.delete(entry);
    if (entry.scheduleSlot >= 0) {
      const before = entry.dueAt;
      entry.dueAt = at;
      if (at < before) this.siftUp(entry.scheduleSlot);
      else this.siftDown(entry.scheduleSlot);
      return;
    }
    entry.dueAt = at;
    entry.scheduleSlot = this.heap.length;
    this.heap.push(entry);
    this.siftUp(entry.scheduleSlot);
  }

  /** Forgets `entry`; nothing happens when it was not held. */
  remove(entry: E): void {
    const slot = entry.scheduleSlot;
    entry.scheduleSlot = UNSCHEDULED;
    entry.dueAt = Infinity;
    if (slot === DUE) {
      this.due.delete(entry);
      return;
    }
    if (slot < 0) return;
    const last = this.heap.pop()!;
    if (slot === this.heap.length) return; // it was the last one
    this.heap[slot] = last;
    last.scheduleSlot = slot;
    this.siftUp(slot);
    this.siftDown(last.scheduleSlot);
  }

  /** Moves every entry whose instant is at or before `now` to the due list (the timer's work). */
  promote(now: number): number {
    let moved = 0;
    while (this.heap.length > 0 && this.heap[0].dueAt <= now) {
      const entry = this.popTop();
      entry.scheduleSlot = DUE;
      this.due.add(entry);
      moved++;
    }
    return moved;
  }

  /**
   * Takes out every due entry and every entry whose instant is at or before `until`, earliest first
   * among those from the heap. They are no longer held: the caller arms again those it leaves for later.
   */
  take(until: number): E[] {
    const taken = [...this.due];
    this.due.clear();
    for (const entry of taken) entry.scheduleSlot = UNSCHEDULED;
    while (this.heap.length > 0 && this.heap[0].dueAt <= until) {
      const entry = this.popTop();
      entry.scheduleSlot = UNSCHEDULED;
      taken.push(entry);
    }
    return taken;
  }

  private popTop(): E {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      last.scheduleSlot = 0;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    const entry = heap[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent.dueAt <= entry.dueAt) break;
      heap[index] = parent;
      parent.scheduleSlot = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.scheduleSlot = index;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const length = heap.length;
    const entry = heap[index];
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right].dueAt < heap[left].dueAt ? right : left;
      if (heap[child].dueAt >= entry.dueAt) break;
      heap[index] = heap[child];
      heap[index].scheduleSlot = index;
      index = child;
    }
    heap[index] = entry;
    entry.scheduleSlot = index;
  }
}
