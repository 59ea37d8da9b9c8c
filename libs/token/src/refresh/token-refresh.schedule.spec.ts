import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DUE, UNSCHEDULED } from './token-cache-entry.js';
import { TokenRefreshSchedule, type Schedulable } from './token-refresh.schedule.js';

interface Item extends Schedulable {
  id: number;
}

const item = (id: number): Item => ({ id, dueAt: Infinity, scheduleSlot: UNSCHEDULED });
const ids = (items: Item[]) => items.map((entry) => entry.id);

function filled(instants: number[]): { schedule: TokenRefreshSchedule<Item>; items: Item[] } {
  const schedule = new TokenRefreshSchedule<Item>();
  const items = instants.map((_, id) => item(id));
  items.forEach((entry, id) => schedule.arm(entry, instants[id]));
  return { schedule, items };
}

describe('refresh schedule', () => {
  it.each([
    ['ascending', [1, 2, 3, 4, 5], 5, [0, 1, 2, 3, 4]],
    ['descending', [5, 4, 3, 2, 1], 5, [4, 3, 2, 1, 0]],
    ['only those due', [30, 10, 20, 40], 25, [1, 2]],
    ['nothing due', [30, 10], 9, []],
    ['due exactly now', [10], 10, [0]],
    ['ties', [7, 7, 7], 7, [0, 1, 2]],
  ])('takes %s entries earliest first', (_name, instants, until, expected) => {
    const { schedule } = filled(instants);
    const taken = schedule.take(until);
    if (_name === 'ties') expect(ids(taken).sort()).toEqual(expected);
    else expect(ids(taken)).toEqual(expected);
    expect(schedule.size).toBe(instants.length - expected.length);
    for (const entry of taken) expect(entry.scheduleSlot).toBe(UNSCHEDULED);
  });

  it('reports the earliest instant, Infinity when empty', () => {
    const schedule = new TokenRefreshSchedule<Item>();
    expect(schedule.nextAt).toBe(Infinity);
    const [a, b] = [item(0), item(1)];
    schedule.arm(a, 50);
    schedule.arm(b, 20);
    expect(schedule.nextAt).toBe(20);
    schedule.remove(b);
    expect(schedule.nextAt).toBe(50);
    schedule.remove(a);
    expect(schedule.nextAt).toBe(Infinity);
    expect(schedule.size).toBe(0);
  });

  it.each([
    ['the earliest', 0, [1, 2, 3, 4]],
    ['one in the middle', 2, [0, 1, 3, 4]],
    ['the last one', 4, [0, 1, 2, 3]],
  ])('removes %s and keeps the order of the rest', (_name, removed, expected) => {
    const { schedule, items } = filled([10, 20, 30, 40, 50]);
    schedule.remove(items[removed]);
    expect(items[removed]).toMatchObject({ scheduleSlot: UNSCHEDULED, dueAt: Infinity });
    expect(ids(schedule.take(Infinity))).toEqual(expected);
  });

  it('ignores removing an entry it does not hold, and holds an entry once however often armed', () => {
    const { schedule, items } = filled([10, 20]);
    schedule.remove(item(9));
    schedule.arm(items[0], 15);
    schedule.arm(items[0], 15);
    expect(schedule.size).toBe(2);
  });

  it.each([
    ['earlier', 3, 5, [3, 0, 1, 2]],
    ['later', 0, 35, [1, 2, 0, 3]],
    ['to the end', 1, 99, [0, 2, 3, 1]],
    ['to the same instant', 2, 30, [0, 1, 2, 3]],
  ])('re-arms an entry %s', (_name, which, at, expected) => {
    const { schedule, items } = filled([10, 20, 30, 40]);
    schedule.arm(items[which], at);
    expect(ids(schedule.take(Infinity))).toEqual(expected);
  });

  it('promotes what is due to the due list; take returns it with the heap entries due by then', () => {
    const { schedule, items } = filled([10, 20, 30, 40]);
    expect(schedule.promote(25)).toBe(2);
    expect(items[0].scheduleSlot).toBe(DUE);
    expect(items[1].scheduleSlot).toBe(DUE);
    expect(schedule.nextAt).toBe(30);
    expect(schedule.size).toBe(4);
    expect(schedule.promote(25)).toBe(0);
    expect(ids(schedule.take(30))).toEqual([0, 1, 2]);
    expect(schedule.size).toBe(1);
  });

  it('removes or re-arms an entry from the due list', () => {
    const { schedule, items } = filled([10, 20, 30]);
    schedule.promote(20);
    schedule.remove(items[0]);
    schedule.arm(items[1], 50);
    expect(items[1].scheduleSlot).toBeGreaterThanOrEqual(0);
    expect(ids(schedule.take(40))).toEqual([2]);
    expect(ids(schedule.take(50))).toEqual([1]);
  });

  it('agrees with a sorted list under any sequence of arms, removals and takes', () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('arm' as const), id: fc.nat(30), at: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ kind: fc.constant('remove' as const), id: fc.nat(30) }),
      fc.record({ kind: fc.constant('take' as const), until: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ kind: fc.constant('promote' as const), until: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const schedule = new TokenRefreshSchedule<Item>();
        const items = Array.from({ length: 31 }, (_, id) => item(id));
        const model = new Map<number, number>(); // id → instant
        const due = new Set<number>();
        for (const op of operations) {
          if (op.kind === 'arm') {
            schedule.arm(items[op.id], op.at);
            model.set(op.id, op.at);
            due.delete(op.id);
          } else if (op.kind === 'remove') {
            schedule.remove(items[op.id]);
            model.delete(op.id);
            due.delete(op.id);
          } else if (op.kind === 'promote') {
            schedule.promote(op.until);
            for (const [id, at] of model) if (at <= op.until) due.add(id);
          } else {
            const taken = schedule.take(op.until);
            const fromHeap = taken.filter((entry) => !due.has(entry.id)).map((entry) => entry.dueAt);
            expect(fromHeap).toEqual([...fromHeap].sort((x, y) => x - y));
            const expected = [...model].filter(([id, at]) => due.has(id) || at <= op.until).map(([id]) => id);
            expect(ids(taken).sort((x, y) => x - y)).toEqual(expected.sort((x, y) => x - y));
            for (const id of expected) model.delete(id);
            due.clear();
          }
          expect(schedule.size).toBe(model.size);
          const earliest = Math.min(...[...model].filter(([id]) => !due.has(id)).map(([, at]) => at));
          expect(schedule.nextAt).toBe(earliest);
        }
      }),
      { numRuns: 200 },
    );
  });
});
