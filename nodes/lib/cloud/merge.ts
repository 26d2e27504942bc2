// Publishes waiting for a free in-flight slot, kept per topic. Under backpressure (more waiting than free
// slots) the JSON bodies at the front of one topic leave as one array: the broker acknowledges one publish
// instead of dozens, and every input still gets its answer. Each job is touched a constant number of times.
import type { SendResult } from './errors';

export interface Job {
  topic: string;
  body: string | Buffer;
  qos: 0 | 1;
  cb: (r: SendResult) => void;
  /** set when `body` is a JSON reading or array of readings that may join others: the largest merged body (0 = no limit) */
  mergeLimit?: number;
}

interface Waiting {
  jobs: Array<Job | undefined>;
  head: number;
}

const inner = (body: string): string => (body.charCodeAt(0) === 91 /* [ */ ? body.slice(1, -1) : body);

const mergeable = (job: Job): job is Job & { body: string; mergeLimit: number } => job.mergeLimit !== undefined && typeof job.body === 'string';

/** One publish for several jobs: its answer goes to each of them. */
function merged(first: Job, parts: string[], cbs: Array<(r: SendResult) => void>): Job {
  return {
    topic: first.topic,
    qos: first.qos,
    body: '[' + parts.join(',') + ']',
    cb: (r) => {
      // a size refusal of a merge is no verdict on any one input: they are retried, and then may go apart
      const each = r.tooLarge ? { ok: false, error: r.error } : r;
      for (const cb of cbs) cb(each);
    },
  };
}

export class TopicQueue {
  private lists = new Map<string, Waiting>();
  /** topics with waiting jobs, served in turn */
  private order: string[] = [];
  private orderHead = 0;
  size = 0;

  add(job: Job): void {
    const key = job.qos === 1 ? job.topic : '\0' + job.topic;
    const list = this.lists.get(key);
    if (list) list.jobs.push(job);
    else {
      this.lists.set(key, { jobs: [job], head: 0 });
      this.order.push(key);
    }
    this.size++;
  }

  /**
   * The next publish, topic after topic: one job as it is, or with `merge` the run of mergeable jobs at the
   * front of the topic joined into one array within their byte limit (a run of one stays as it was).
   */
  next(merge: boolean): Job | undefined {
    if (this.orderHead >= this.order.length) return undefined;
    const key = this.order[this.orderHead++];
    const list = this.lists.get(key) as Waiting;
    const first = list.jobs[list.head] as Job;
    list.jobs[list.head++] = undefined;
    this.size--;
    let out: Job = first;
    if (merge && mergeable(first) && list.head < list.jobs.length) {
      let limit = first.mergeLimit;
      const firstPart = inner(first.body);
      const parts = firstPart ? [firstPart] : [];
      const cbs = [first.cb];
      let bytes = 2 + Buffer.byteLength(firstPart);
      while (list.head < list.jobs.length) {
        const job = list.jobs[list.head] as Job;
        if (!mergeable(job)) break;
        const part = inner(job.body);
        const b = Buffer.byteLength(part) + 1;
        const l = limit && job.mergeLimit ? Math.min(limit, job.mergeLimit) : limit || job.mergeLimit;
        if (l && bytes + b > l) break;
        limit = l;
        bytes += b;
        if (part) parts.push(part);
        cbs.push(job.cb);
        list.jobs[list.head++] = undefined;
        this.size--;
      }
      if (cbs.length > 1) out = merged(first, parts, cbs);
    }
    if (list.head === list.jobs.length) this.lists.delete(key);
    else {
      if (list.head > 1024 && list.head * 2 > list.jobs.length) {
        list.jobs = list.jobs.slice(list.head);
        list.head = 0;
      }
      // the topic still has waiting jobs: its turn comes again after the others
      this.order.push(key);
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    return out;
  }

  /** Takes every waiting job out, each topic's in order. */
  drain(): Job[] {
    const all: Job[] = [];
    for (const list of this.lists.values()) for (let i = list.head; i < list.jobs.length; i++) all.push(list.jobs[i] as Job);
    this.lists.clear();
    this.order = [];
    this.orderHead = 0;
    this.size = 0;
    return all;
  }
}
