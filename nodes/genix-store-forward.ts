// genix-store-forward: stores every message in SQLite before forwarding it, and deletes it only when the cloud acknowledges.
import os from 'os';
import path from 'path';
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { StoreForwardBuffer, Outgoing, BufferOptions, Overflow, NoSqliteEngineError } from './lib/store-forward';
import { numberOr, requireNumber } from './lib/common/numbers';
import { stringField, numericField, requireScope, sendError, RequestError } from './lib/common/admin-request';

interface StoreForwardDef extends NodeDef {
  dbPath?: string;
  synchronous?: string;
  /** auto | better-sqlite3 | node:sqlite */
  engine?: string;
  maxMessages?: number | string;
  maxBytes?: number | string;
  overflow?: string;
  ttlMs?: number | string;
  maxInFlight?: number | string;
  maxInFlightReadings?: number | string;
  order?: string;
  ackTimeoutMs?: number | string;
  replayRate?: number | string;
  replayBatchSize?: number | string;
  retryMinMs?: number | string;
  retryMaxMs?: number | string;
  storeProperties?: string | string[];
  metricsIntervalMs?: number | string;
  /** forward nothing until a resume or flush command */
  startPaused?: boolean;
  maxAttempts?: number | string;
}

interface StoreForwardNode extends Node {
  buffer?: StoreForwardBuffer;
}

const COMMANDS = new Set(['pause', 'resume', 'flush', 'metrics', 'deadletters', 'requeue-deadletters', 'purge-deadletters']);

const num = (v: unknown, dflt: number, min = 0): number => numberOr(v, dflt, { min });

/** A control message: msg.command, or msg.topic naming a command with no reading in the payload. */
function controlCommand(msg: any): string | null {
  if (typeof msg.command === 'string' && COMMANDS.has(msg.command)) return msg.command;
  if (typeof msg.topic === 'string' && COMMANDS.has(msg.topic) && (msg.payload === null || typeof msg.payload !== 'object')) return msg.topic;
  return null;
}

export = function (RED: NodeAPI) {
  function StoreForwardNode(this: StoreForwardNode, config: StoreForwardDef) {
    RED.nodes.createNode(this, config);
    const node = this; // eslint-disable-line @typescript-eslint/no-this-alias
    const userDir = (RED.settings as any).userDir || path.join(os.homedir(), '.node-red');
    const file = config.dbPath && String(config.dbPath).trim()
      ? path.resolve(userDir, String(config.dbPath).trim())
      : path.join(userDir, 'genix-store-forward', `${node.id.replace(/[^A-Za-z0-9_-]/g, '_')}.sqlite`);
    const storeProperties = (Array.isArray(config.storeProperties) ? config.storeProperties : String(config.storeProperties ?? '').split(','))
      .map((s) => String(s).trim()).filter((s) => s && s !== 'topic' && s !== 'payload' && s !== 'delivery');
    const opts: Partial<BufferOptions> = {
      maxMessages: num(config.maxMessages, 1000000),
      maxBytes: num(config.maxBytes, 0),
      overflow: (config.overflow === 'drop-newest' ? 'drop-newest' : 'drop-oldest') as Overflow,
      ttlMs: num(config.ttlMs, 0),
      maxInFlight: Math.max(1, num(config.maxInFlight, 100, 1)),
      maxInFlightReadings: num(config.maxInFlightReadings, 20000),
      ackTimeoutMs: num(config.ackTimeoutMs, 30000, 1),
      replayRate: num(config.replayRate, 5000),
      order: config.order === 'live-first' ? 'live-first' : 'fifo',
      replayBatchSize: Math.max(1, num(config.replayBatchSize, 100, 1)),
      retryMinMs: num(config.retryMinMs, 1000),
      retryMaxMs: num(config.retryMaxMs, 60000),
      maxAttempts: Math.max(1, num(config.maxAttempts, 10, 1)),
      storeProperties,
    };
    const metricsIntervalMs = num(config.metricsIntervalMs, 10000);
    let lastStatus = '';

    const showStatus = () => {
      const b = node.buffer;
      if (!b) return;
      const state = b.isDiskFull ? 'diskFull' : b.storeError ? 'storeError' : b.state;
      // drops by reason, e.g. "dropped disk-full 120, ttl 4"
      const drops = Object.entries(b.acct.drops).filter(([, n]) => n > 0).map(([reason, n]) => `${reason} ${n}`).join(', ');
      // the engine last: "forwarding · 120 · node:sqlite"
      const text = `${RED._(`genix-store-forward.status.${state}`)} · ${b.backlog}` + (drops ? ` · ${RED._('genix-store-forward.status.dropped')} ${drops}` : '') + ` · ${b.queue.engine}`;
      if (text === lastStatus) return;
      lastStatus = text;
      const fill = state === 'forwarding' ? 'green' : state === 'paused' ? 'grey' : state === 'diskFull' || state === 'storeError' ? 'red' : 'yellow';
      node.status({ fill, shape: state === 'forwarding' ? 'dot' : 'ring', text });
    };

    const forward = (out: Outgoing) => {
      const msg: any = { _msgid: RED.util.generateId() };
      if (out.topic !== undefined) msg.topic = out.topic;
      msg.payload = out.payload;
      if (out.extra) for (const k of Object.keys(out.extra)) if (k !== 'delivery' && k !== '_msgid') msg[k] = out.extra[k];
      // token: this instance's proof; an answer settles rows only with it, its seq and exactly these ids
      msg.delivery = { buffer: node.id, ids: out.ids, attempt: out.attempt, seq: out.seq, token: out.token };
      node.send([msg, null]);
    };

    const sendMetrics = () => {
      if (node.buffer) node.send([null, { _msgid: RED.util.generateId(), topic: 'metrics', payload: node.buffer.metrics() } as any]);
    };

    let openError = '';
    try {
      node.buffer = new StoreForwardBuffer(
        { path: file, owner: node.id, synchronous: config.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL', engine: (config.engine || 'auto') as any },
        opts,
        { forward, fault: (text, level) => (level === 'info' ? node.log(text) : level === 'warn' ? node.warn(text) : node.error(text)), changed: showStatus },
      );
    } catch (err: any) {
      openError = err.message;
      if (err instanceof NoSqliteEngineError) {
        node.error(`store-forward: ${err.message}`);
        node.status({ fill: 'red', shape: 'ring', text: RED._('genix-store-forward.status.noEngine') });
      } else {
        node.error(`store-forward: cannot open ${file}: ${err.message}`);
        node.status({ fill: 'red', shape: 'ring', text: RED._('genix-store-forward.status.error') });
      }
    }
    if (config.startPaused === true) node.buffer?.pause();
    const opened = node.buffer?.opened;
    if (opened?.movedAside) {
      const lost = opened.lost === null ? 'an unknown number' : String(opened.lost ?? 0);
      node.error(`store-forward: database ${file} was corrupt (${opened.corruptReason}); moved it to ${opened.movedAside} and started a fresh one with the ${opened.carried ?? 0} messages that could be read; ${lost} could not be carried over (counted in drops.corrupt)`);
    }

    const statusTimer = setInterval(() => {
      node.buffer?.tick();
      showStatus();
    }, 1000);
    const metricsTimer = metricsIntervalMs > 0 ? setInterval(sendMetrics, metricsIntervalMs) : null;
    showStatus();

    node.on('input', (msg: any, send: (m: any) => void, done: (err?: Error) => void) => {
      const buffer = node.buffer;
      if (!buffer) return done(new Error(`store-forward: buffer is not open (${file}): ${openError}`));
      const d = msg.delivery;
      // an answer: ours, or any msg.delivery that says ok true/false (an answer meant for another buffer proves nothing here)
      if (d && typeof d === 'object' && (d.buffer === node.id || 'ok' in d)) {
        // an answer: applied only when it proves what it carried; anything else is counted and reported at a bounded rate
        const verdict = buffer.answer(d);
        done();
        // delivered and consumed here: drop the readings, as Node-RED's tenured send records can keep the msg alive until a major GC
        if (verdict === null && d.ok === true) msg.payload = undefined;
        return;
      }
      const cmd = controlCommand(msg);
      if (cmd) {
        try {
          if (cmd === 'pause') buffer.pause();
          else if (cmd === 'resume') buffer.resume();
          else if (cmd === 'flush') buffer.flush();
          else if (cmd === 'deadletters') {
            send([null, { topic: 'deadletters', payload: buffer.readDeadLetters(num(msg.afterId, 0), num(msg.limit, 100, 1)) }]);
          } else if (cmd === 'requeue-deadletters') buffer.requeueDeadLetters(num(msg.limit, 1000, 1));
          else if (cmd === 'purge-deadletters') buffer.purgeDeadLetters();
          if (cmd !== 'deadletters') send([null, { topic: 'metrics', payload: buffer.metrics() }]);
          showStatus();
          return done();
        } catch (err: any) {
          return done(err);
        }
      }
      buffer.accept(msg, (err) => (err ? done(err) : done()));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      if (metricsTimer) clearInterval(metricsTimer);
      try {
        node.buffer?.close();
      } catch (err: any) {
        node.error(`store-forward: closing ${file} failed: ${err.message}`);
      }
      node.buffer = undefined;
      done();
    });
  }

  RED.nodes.registerType('genix-store-forward', StoreForwardNode as any);

  // editor/dashboard views of a buffer: read permission (403 without it), checked id and query
  const lookup = (req: any, res: any): StoreForwardBuffer | undefined => {
    try {
      stringField(req.params, 'id', { max: 64, required: true, pattern: /^[\w.-]+$/, hint: 'is not a node id' });
    } catch (err) {
      sendError(res, err);
      return undefined;
    }
    const n = RED.nodes.getNode(req.params.id) as StoreForwardNode | null;
    if (!n || !n.buffer) {
      res.status(404).json({ error: 'no open genix-store-forward node with this id' });
      return undefined;
    }
    return n.buffer;
  };
  const readPermission = [RED.auth.needsPermission(''), requireScope('genix-store-forward.read')];
  RED.httpAdmin.get('/genix/store-forward/:id/metrics', ...readPermission, (req: any, res: any) => {
    const b = lookup(req, res);
    if (b) res.json(b.metrics());
  });
  RED.httpAdmin.get('/genix/store-forward/:id/deadletters', ...readPermission, (req: any, res: any) => {
    let afterId: number;
    let limit: number;
    try {
      afterId = requireNumber(numericField(req.query, 'afterId'), 'afterId', 0, { min: 0, integer: true });
      limit = requireNumber(numericField(req.query, 'limit'), 'limit', 100, { min: 1, integer: true });
    } catch (err) {
      sendError(res, err instanceof RequestError ? err : new RequestError((err as Error).message));
      return;
    }
    const b = lookup(req, res);
    if (b) res.json(b.readDeadLetters(afterId, limit));
  });
};
