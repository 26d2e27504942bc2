// genix-anomaly: per-sensor threshold / statistical alarms. Output 1: readings passed through,
// annotated with reading.alarms; output 2: one alarm event per state change. Logic: lib/anomaly.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { AnomalyDetector, AnomalyEvent, ExportedState, isReading, readingProblem, annotateReading } from './lib/anomaly/detector';
import type { AnomalyRule } from './lib/anomaly/rules';
import { numberOr } from './lib/common/numbers';

interface AnomalyNodeDef extends NodeDef {
  rules?: AnomalyRule[] | string;
  store?: string;
  saveEveryMs?: number | string;
  sweepMs?: number | string;
  liveClock?: boolean;
  group?: boolean;
  /** backfilled readings (OPC-UA history): 'pass' untouched (default) or 'evaluate' on a history state */
  backfill?: 'pass' | 'evaluate';
}

const STATE_KEY = 'genix-anomaly-state';
const STATUS_EVERY_MS = 1000;
const COMMANDS = new Set(['rules', 'reset', 'ack', 'shelve', 'unshelve']);
const MAX_SHELVE_MS = 7 * 24 * 3600000;
/**
 * State handed from a stopped node to its redeployed successor in this process. Node-RED deletes a
 * node's context on every stop when no contextStorage is configured, so context alone would not do.
 */
const handover = new Map<string, unknown>();

const num = (v: unknown, d: number, min: number): number => numberOr(v, d, { min });

/** A control message: msg.command, or msg.topic naming a command when the payload is not readings. */
function commandOf(msg: any): string | null {
  if (typeof msg.command === 'string' && msg.command !== '') return msg.command;
  if (typeof msg.topic !== 'string' || !COMMANDS.has(msg.topic)) return null;
  const p = msg.payload;
  if (isReading(p) || (Array.isArray(p) && p.length > 0 && isReading(p[0]))) return null;
  return msg.topic;
}

/** sensorId (glob) and kind of a control message: from payload object, string payload, or msg. */
function target(msg: any): { sensorId?: string; kind?: string } {
  const p = msg.payload;
  const from = p !== null && typeof p === 'object' && !Array.isArray(p) ? p : {};
  let sensorId = from.sensorId ?? (typeof p === 'string' && p !== '' ? p : undefined) ?? msg.sensorId;
  const kind = from.kind ?? msg.kind;
  if (sensorId !== undefined && (typeof sensorId !== 'string' || sensorId === '')) throw new Error('sensorId must be a non-empty string (a glob such as "TEMP-*" is allowed)');
  if (kind !== undefined && typeof kind !== 'string') throw new Error('kind must be a string');
  if (sensorId === '*') sensorId = undefined;
  return { sensorId, kind };
}

export = function (RED: NodeAPI) {
  function GenixAnomalyNode(this: Node, config: AnomalyNodeDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below run with another `this`
    const node = this;
    const store = config.store ? String(config.store) : undefined;
    const saveEveryMs = num(config.saveEveryMs, 10000, 100);
    const sweepMs = num(config.sweepMs, 500, 50);
    const liveClock = config.liveClock !== false;
    // One episode per sensor (one "active", one "cleared") unless the flow says otherwise.
    const group = config.group !== false;
    const warnedCommands = new Set<string>();
    let det: AnomalyDetector | null = null;
    // 'evaluate': backfilled readings are judged by a second detector of their own (events marked historical)
    let hist: AnomalyDetector | null = null;
    let configError = '';
    let configSig = '';
    try {
      const rules = typeof config.rules === 'string' ? JSON.parse(config.rules || '[]') : config.rules ?? [];
      configSig = JSON.stringify(rules);
      det = new AnomalyDetector(rules, { sweepMs, group });
      if (config.backfill === 'evaluate') hist = new AnomalyDetector(rules, { sweepMs, group, history: true });
    } catch (err: any) {
      configError = err && err.message ? err.message : String(err);
      node.error(RED._('genix-anomaly.errors.config', { error: configError }));
      node.status({ fill: 'red', shape: 'ring', text: 'genix-anomaly.status.configError' });
    }
    // read by the operations plugin (nodes/genix-ops.ts) for the active/shelved alarm gauges
    (node as any).alarmStats = () => det?.stats(liveClock ? Date.now() : undefined);
    const ctx = node.context();
    let ready = false;
    const pending: Array<[any, (m: any) => void, (e?: Error) => void]> = [];
    let statusTimer: NodeJS.Timeout | null = null;
    let sweepTimer: NodeJS.Timeout | null = null;
    let savedChanges = -1;
    let readingsSinceSave = 0;
    let lastSave = Date.now();
    let warnedUntracked = false;
    let shown = '';

    const toMessages = (evs: AnomalyEvent[]) => evs.map((e) => ({ topic: e.sensorId, payload: e }));
    /** live events, then the history detector's (when evaluating backfill) */
    const takeEvents = (d: AnomalyDetector): AnomalyEvent[] => {
      const evs = d.takeEvents();
      if (hist === null) return evs;
      const h = hist.takeEvents();
      return h.length === 0 ? evs : evs.concat(h);
    };

    const showStatus = () => {
      statusTimer = null;
      if (det === null) return;
      const s = det.stats(liveClock ? Date.now() : undefined);
      shown = `${s.active}/${s.per10min}`;
      node.status({
        fill: s.active > 0 ? 'red' : 'green',
        shape: s.active > 0 ? 'dot' : 'ring',
        text: RED._('genix-anomaly.status.summary', { active: s.active, per10min: s.per10min, sensors: s.sensors }),
      });
    };
    const statusSoon = () => {
      if (statusTimer === null) statusTimer = setTimeout(showStatus, STATUS_EVERY_MS);
    };

    const save = (cb?: () => void) => {
      if (det === null) return cb?.();
      savedChanges = det.changes;
      readingsSinceSave = 0;
      lastSave = Date.now();
      let state: ExportedState;
      try {
        state = det.exportState();
      } catch (err: any) {
        node.warn(RED._('genix-anomaly.errors.save', { error: err.message }));
        return cb?.();
      }
      const after = (err?: Error) => {
        if (err) node.warn(RED._('genix-anomaly.errors.save', { error: err.message }));
        cb?.();
      };
      const saved = { configSig, state };
      if (store) ctx.set(STATE_KEY, saved, store, after);
      else ctx.set(STATE_KEY, saved, after);
    };
    const maybeSave = () => {
      if (det === null || Date.now() - lastSave < saveEveryMs) return;
      if (det.changes !== savedChanges || readingsSinceSave > 0) save();
    };

    const handleCommand = (cmd: string, msg: any): void => {
      const d = det as AnomalyDetector;
      const now = Date.now();
      switch (cmd) {
        case 'rules': {
          const rules = Array.isArray(msg.payload) ? msg.payload : msg.rules;
          if (!Array.isArray(rules)) throw new Error('rules: msg.payload must be an array of rules');
          d.setRules(rules, now);
          hist?.setRules(rules, now);
          break;
        }
        case 'reset':
          d.reset(target(msg).sensorId, now);
          hist?.reset(target(msg).sensorId, now);
          break;
        case 'ack': {
          const t = target(msg);
          d.ack(t.sensorId, t.kind, now);
          break;
        }
        case 'shelve': {
          const t = target(msg);
          const raw = msg.payload?.durationMs ?? msg.durationMs ?? 3600000;
          const ms = typeof raw === 'string' ? Number(raw) : raw;
          if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > MAX_SHELVE_MS) throw new Error(`shelve: durationMs must be between 1 and ${MAX_SHELVE_MS}`);
          d.shelve(t.sensorId, t.kind, ms, now);
          break;
        }
        case 'unshelve': {
          const t = target(msg);
          d.unshelve(t.sensorId, t.kind, now);
          break;
        }
        default:
          throw new Error(`unknown command "${cmd}" (one of ${[...COMMANDS].join(', ')})`);
      }
      save();
    };

    const onInput = (msg: any, send: (m: any) => void, done: (err?: Error) => void) => {
      if (det === null) {
        send([msg, null]); // never lose data because of our own bad settings
        return done(new Error(RED._('genix-anomaly.errors.config', { error: configError })));
      }
      let cmd = commandOf(msg);
      let unknown = '';
      if (cmd !== null && !COMMANDS.has(cmd)) {
        // Not ours (another node's command, a typo): the data must not be lost. Evaluate it and say so once.
        if (!warnedCommands.has(cmd) && warnedCommands.size < 100) {
          warnedCommands.add(cmd);
          node.warn(RED._('genix-anomaly.errors.unknownCommand', { command: cmd, commands: [...COMMANDS].join(', ') }));
        }
        unknown = `msg.command "${cmd}" is not a command (${[...COMMANDS].join(', ')}); `;
        cmd = null;
      }
      if (cmd !== null) {
        try {
          handleCommand(cmd, msg);
        } catch (err: any) {
          const evs = takeEvents(det);
          if (evs.length) send([null, toMessages(evs)]);
          return done(err instanceof Error ? err : new Error(String(err)));
        }
        const evs = takeEvents(det);
        if (evs.length) send([null, toMessages(evs)]);
        statusSoon();
        return done();
      }
      // Replays (liveClock off) keep the readings' clock alone: no wall-clock cap, no wall-clock advance.
      if (liveClock) det.arrival(Date.now());
      const p = msg.payload;
      let problem = '';
      if (Array.isArray(p)) {
        const ok = det.processBatch(p, true);
        if (hist !== null) hist.processBatch(p, false);
        readingsSinceSave += ok;
        if (ok < p.length) problem = `${p.length - ok} of ${p.length} batch entries are not readings (first: ${readingProblem(p.find((r: unknown) => !isReading(r)))})`;
      } else {
        problem = readingProblem(p);
        if (problem === '') {
          annotateReading(p, det.process(p));
          if (hist !== null) hist.process(p);
          readingsSinceSave++;
        }
      }
      if (det.untracked > 0 && !warnedUntracked) {
        warnedUntracked = true;
        node.warn(RED._('genix-anomaly.errors.tooManySensors', { max: det.stats().sensors }));
      }
      const evs = takeEvents(det);
      // Invalid input still passes through on output 1 so nothing downstream loses data.
      send([msg, evs.length ? toMessages(evs) : null]);
      if (evs.length) statusSoon();
      maybeSave();
      done(problem ? new Error(unknown + problem) : undefined);
    };

    node.on('input', (msg: any, send: (m: any) => void, done: (err?: Error) => void) => {
      if (!ready) pending.push([msg, send, done]);
      else onInput(msg, send, done);
    });

    const start = (saved: any) => {
      if (det !== null && saved && typeof saved === 'object' && saved.state) {
        try {
          const state: ExportedState = saved.state;
          // Rules edited in the editor since the save win over rules sent by message before it.
          if (saved.configSig !== configSig) delete state.rules;
          det.importState(state, Date.now());
        } catch (err: any) {
          node.warn(RED._('genix-anomaly.errors.restore', { error: err.message }));
        }
        const evs = det.takeEvents();
        if (evs.length) node.send([null, toMessages(evs)]);
      }
      ready = true;
      for (const [m, s, d] of pending.splice(0)) onInput(m, s, d);
      if (det !== null) {
        showStatus();
        sweepTimer = setInterval(() => {
          const d = det as AnomalyDetector;
          // Live use: advance "latest seen time" by the wall clock so stale fires when nothing arrives.
          if (liveClock) d.tick(Date.now());
          const evs = d.takeEvents();
          if (evs.length) node.send([null, toMessages(evs)]);
          // The 10-minute count also falls as time passes without alarms.
          const st = d.stats(liveClock ? Date.now() : undefined);
          if (`${st.active}/${st.per10min}` !== shown) statusSoon();
          maybeSave();
        }, sweepMs);
      }
    };
    const passed = handover.get(node.id);
    handover.delete(node.id);
    const got = (err: Error | undefined, state: unknown) => {
      if (err) node.warn(RED._('genix-anomaly.errors.restore', { error: err.message }));
      start(passed ?? (err ? undefined : state));
    };
    try {
      if (store) ctx.get(STATE_KEY, store, got);
      else ctx.get(STATE_KEY, got);
    } catch (err: any) {
      node.warn(RED._('genix-anomaly.errors.restore', { error: err.message }));
      start(undefined);
    }

    node.on('close', (removed: boolean, done: () => void) => {
      if (statusTimer !== null) clearTimeout(statusTimer);
      if (sweepTimer !== null) clearInterval(sweepTimer);
      statusTimer = sweepTimer = null;
      if (removed) {
        handover.delete(node.id);
        const after = () => done();
        if (store) ctx.set(STATE_KEY, undefined, store, after);
        else ctx.set(STATE_KEY, undefined, after);
        return;
      }
      if (!ready) return done();
      if (det !== null) handover.set(node.id, { configSig, state: det.exportState() });
      save(() => done());
    });
  }

  RED.nodes.registerType('genix-anomaly', GenixAnomalyNode as any);
};
