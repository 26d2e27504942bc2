// Accept times and TTL on a clock that a wall-clock step cannot move.
//
// Each row stores its accept time in epoch ms. Within a process that time is read from a monotonic clock
// anchored once at open: anchor = max(wall clock at open, newest accept time already stored). So an NTP step
// while running neither expires nor keeps the backlog, and accept times never go backwards across restarts.
// Across a restart the age of older rows is the anchor minus their stored time: time the gateway was off counts
// only as far as the wall clock at the next start shows it (a box that boots with a clock behind keeps its rows
// longer, never shorter).
import { performance } from 'perf_hooks';

export type Monotonic = () => number;

export const systemMonotonic: Monotonic = () => performance.now();

export class AcceptClock {
  private anchor: number;
  private mono0: number;

  constructor(newestStored: number | null, private mono: Monotonic = systemMonotonic, wall: number = Date.now()) {
    this.anchor = Math.max(wall, newestStored ?? 0);
    this.mono0 = mono();
  }

  /** epoch ms, moving only with the monotonic clock */
  now(): number {
    return this.anchor + Math.floor(this.mono() - this.mono0);
  }
}
