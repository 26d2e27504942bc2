// Under backpressure (more bodies waiting than free in-flight slots) JSON bodies for the same topic leave
// as one array: the broker acknowledges one publish instead of dozens, and every input still gets its answer.
import type { SendResult } from './errors';

export interface Job {
  topic: string;
  body: string | Buffer;
  qos: 0 | 1;
  cb: (r: SendResult) => void;
  /** set when `body` is a JSON reading or array of readings that may join others: the largest merged body (0 = no limit) */
  mergeLimit?: number;
}

interface Merged {
  topic: string;
  qos: 0 | 1;
  limit: number;
  first: Job;
  /** the readings of each body, without brackets */
  parts: string[];
  bytes: number;
  cbs: Array<(r: SendResult) => void>;
}

const inner = (body: string): string => (body.charCodeAt(0) === 91 /* [ */ ? body.slice(1, -1) : body);

function size(s: string): number {
  return Buffer.byteLength(s);
}

function fits(m: Merged, add: number, limit: number): boolean {
  const l = m.limit && limit ? Math.min(m.limit, limit) : m.limit || limit;
  return !l || m.bytes + add + 1 <= l;
}

/** One publish for a merge of several jobs: its answer goes to each of them. */
function toJob(m: Merged): Job {
  if (m.cbs.length === 1) return m.first;
  const cbs = m.cbs;
  return {
    topic: m.topic,
    qos: m.qos,
    body: '[' + m.parts.filter((p) => p !== '').join(',') + ']',
    cb: (r) => {
      // a size refusal of a merge is no verdict on any one input: they are retried, and then may go apart
      const each = r.tooLarge ? { ok: false, error: r.error } : r;
      for (const cb of cbs) cb(each);
    },
  };
}

// how far past the head one pass looks for bodies to merge: bounds the work of a pass
const SCAN = 8192;

/**
 * Takes jobs from the waiting `queue` into at most `room` publishes, merging mergeable JSON bodies per topic and QoS.
 * Looks past jobs it cannot place yet, but never lets a job overtake an earlier one for the same topic.
 * Returns the publishes and the jobs left waiting, in their order.
 */
export function takeMerged(queue: Array<Job | undefined>, head: number, room: number): { out: Job[]; rest: Job[] } {
  const out: Array<Job | Merged> = [];
  const open = new Map<string, Merged>();
  // topics with a job left waiting: later jobs for them wait too
  const blocked = new Set<string>();
  const rest: Job[] = [];
  const end = Math.min(queue.length, head + SCAN);
  for (let h = head; h < end; h++) {
    const job = queue[h] as Job;
    const key = job.qos + job.topic;
    if (blocked.has(key)) {
      rest.push(job);
      continue;
    }
    if (job.mergeLimit === undefined || typeof job.body !== 'string') {
      if (out.length < room) {
        out.push(job);
        open.delete(key);
      } else {
        rest.push(job);
        blocked.add(key);
      }
      continue;
    }
    const part = inner(job.body);
    const bytes = size(part);
    const m = open.get(key);
    if (m && fits(m, bytes, job.mergeLimit)) {
      m.parts.push(part);
      m.bytes += bytes + 1;
      if (job.mergeLimit && (!m.limit || job.mergeLimit < m.limit)) m.limit = job.mergeLimit;
      m.cbs.push(job.cb);
      continue;
    }
    if (out.length >= room) {
      rest.push(job);
      blocked.add(key);
      continue;
    }
    const fresh: Merged = { topic: job.topic, qos: job.qos, limit: job.mergeLimit, first: job, parts: [part], bytes: bytes + 2, cbs: [job.cb] };
    open.set(key, fresh);
    out.push(fresh);
  }
  for (let h = end; h < queue.length; h++) rest.push(queue[h] as Job);
  return { out: out.map((x) => ('cbs' in x ? toJob(x) : x)), rest };
}
