// genix-normalizer: any sensor message in, canonical readings out (output 1), rejections with msg.error (output 2).
import type { NodeAPI, Node, NodeDef } from 'node-red';
import type { Reading } from './lib/types';
import { checkTagKeys, ENRICH_TYPES, Enrichment, EnrichType, InvalidEntry, isSparkplug, Normalizer, NormalizerConfig, SparkplugReader, sparkplugBytes, tryNormalize, TagSpec } from './lib/normalizer';
import { FORBIDDEN_KEYS } from './lib/normalizer/paths';
import { jsonBody, objectField, stringField, requireScope, sendError, RequestError } from './lib/common/admin-request';

interface NormalizerNodeDef extends NodeDef, NormalizerConfig {}

interface Source { field: 'plantId' | 'lineId' | 'assetId' | 'tag'; key: string; type: EnrichType; value: string }

const STATUS_EVERY_MS = 500;
const ENRICH_FIELDS = ['plantId', 'lineId', 'assetId'] as const;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' || v.length > 256 ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** The enrichment sources a config names (plantId/lineId/assetId, then tags); throws on bad ones. */
function sources(cfg: NormalizerConfig): Source[] {
  const out: Source[] = [];
  for (const f of ENRICH_FIELDS) {
    const value = String(cfg[f] ?? '').trim();
    const type = (cfg[`${f}Type`] || 'str') as EnrichType;
    if (!ENRICH_TYPES.includes(type)) throw new Error(`${f}: unknown source type "${type}"`);
    if (value !== '') out.push({ field: f, key: f, type, value });
  }
  const tags: TagSpec[] = Array.isArray(cfg.tags) ? cfg.tags : [];
  checkTagKeys(tags);
  for (const t of tags) {
    const type = (t.type || 'str') as EnrichType;
    if (!ENRICH_TYPES.includes(type)) throw new Error(`tag ${t.key}: unknown source type "${type}"`);
    out.push({ field: 'tag', key: String(t.key).trim(), type, value: String(t.value ?? '') });
  }
  return out;
}

function put(e: Enrichment, s: Source, v: string | undefined): void {
  if (v === undefined) return;
  if (s.field === 'tag') {
    if (FORBIDDEN_KEYS.has(s.key)) return;
    if (e.tags === undefined) e.tags = {};
    e.tags[s.key] = v;
  } else {
    e[s.field] = v;
  }
}

export = function (RED: NodeAPI) {
  function GenixNormalizerNode(this: Node, config: NormalizerNodeDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- handlers below run with another `this`
    const node = this;
    let core: Normalizer | null = null;
    let configError: string | null = null;
    let fixed: Enrichment | null = null;
    let dynamic: Source[] = [];
    try {
      core = new Normalizer(config);
      const all = sources(config);
      // Constants and environment variables are resolved once; msg/flow/global per message.
      const e: Enrichment = {};
      for (const s of all) {
        if (s.type === 'str') put(e, s, text(s.value));
        else if (s.type === 'env') put(e, s, text(RED.util.evaluateNodeProperty(s.value, 'env', node, {} as any)));
      }
      dynamic = all.filter((s) => s.type === 'msg' || s.type === 'flow' || s.type === 'global');
      fixed = Object.keys(e).length > 0 ? e : null;
    } catch (err: any) {
      core = null;
      configError = err && err.message ? err.message : String(err);
      node.error(RED._('genix-normalizer.errors.config', { error: configError as string }));
      node.status({ fill: 'red', shape: 'ring', text: 'genix-normalizer.status.configError' });
    }
    const output = core?.config.output ?? 'each';
    // Sparkplug B from the stock mqtt in: decoded to one item per metric, aliases from the births seen
    const sparkplug = new SparkplugReader(config.sparkplugRebirth === true);
    const scratch: Reading[] = [];
    // Reused send arrays: Node-RED reads them synchronously inside send() and keeps no reference.
    const toReadings: any[] = [null, null];
    const toInvalid: any[] = [null, null];
    let valid = 0;
    let invalid = 0;
    let statusTimer: NodeJS.Timeout | null = null;

    const showStatus = () => {
      statusTimer = null;
      node.status({
        fill: invalid > 0 ? 'yellow' : 'green',
        shape: 'dot',
        text: RED._('genix-normalizer.status.counts', { valid, invalid }),
      });
    };

    const enrichFor = (msg: any): Enrichment | null => {
      if (dynamic.length === 0) return fixed;
      const e: Enrichment = fixed ? { ...fixed, tags: fixed.tags ? { ...fixed.tags } : undefined } : {};
      for (const s of dynamic) {
        let v: unknown;
        try {
          v = s.type === 'msg' ? RED.util.getMessageProperty(msg, s.value) : RED.util.evaluateNodeProperty(s.value, s.type, node, msg);
        } catch {
          v = undefined;
        }
        put(e, s, text(v));
      }
      if (e.tags === undefined) delete e.tags;
      return e;
    };

    node.on('input', (msg: any, send: (m: any) => void, done: (err?: Error) => void) => {
      const arrival = Date.now();
      const payload = msg.payload;
      let errs: InvalidEntry[] | null;
      let readings: Reading[];
      if (core === null) {
        readings = scratch;
        if (scratch.length !== 0) scratch.length = 0;
        errs = [{ code: 'config_error', message: `the node's settings are invalid: ${configError}` }];
      } else {
        readings = output === 'batch' ? [] : scratch;
        // Truncating an array is a slow runtime call: only when there is something to drop.
        if (scratch.length !== 0) scratch.length = 0;
        if (isSparkplug(msg.topic, payload)) {
          const sp = sparkplug.read(msg.topic, sparkplugBytes(payload), arrival);
          errs = sp.errors;
          if (sp.items.length > 0) {
            const more = core.normalize(msg.topic, sp.items, arrival, enrichFor(msg), readings);
            if (more) errs = errs ? errs.concat(more) : more;
          }
          if (sp.rebirth) {
            // a ready NCMD for an mqtt out node wired to the invalid output
            toInvalid[1] = { topic: sp.rebirth.topic, payload: sp.rebirth.payload, qos: 0, retain: false, rebirth: { edgeNode: sp.rebirth.edgeNode } };
            send(toInvalid);
            toInvalid[1] = null;
          }
        } else {
          errs = core.normalize(msg.topic, payload, arrival, enrichFor(msg), readings);
        }
      }
      const n = readings.length;
      valid += n;
      // Build the invalid message before msg is reused for the readings.
      let bad: any = null;
      if (errs !== null) {
        invalid++;
        bad = n === 0 ? msg : { ...msg };
        bad.error = { code: errs[0].code, message: errs[0].message };
        if (errs.length > 1) bad.errors = errs;
        else delete bad.errors;
        if (payload !== null && typeof payload === 'object' && !Buffer.isBuffer(payload) && core !== null && core.tooDeep(payload)) {
          // Hostile nesting must not travel on: other nodes clone recursively.
          bad.payload = undefined;
          bad.error = { code: 'too_deep', message: `the payload nests deeper than ${core.config.maxDepth} levels` };
        }
      }
      if (n > 0) {
        if (output === 'batch') {
          msg.payload = readings;
          toReadings[0] = msg;
          send(toReadings);
        } else {
          for (let i = 0; i < n; i++) {
            const r = readings[i];
            const m = i === 0 ? msg : { ...msg };
            m.payload = r;
            m.topic = r.sensorId;
            // One send per reading: Node-RED clones every message but the first of a send() call.
            toReadings[0] = m;
            send(toReadings);
          }
          if (scratch.length !== 0) scratch.length = 0;
        }
      }
      toReadings[0] = null;
      if (bad !== null) {
        toInvalid[1] = bad;
        send(toInvalid);
        toInvalid[1] = null;
      }
      if (statusTimer === null) statusTimer = setTimeout(showStatus, STATUS_EVERY_MS);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = null;
      done();
    });
  }

  RED.nodes.registerType('genix-normalizer', GenixNormalizerNode as any);

  // "Try it": the editor posts its current (undeployed) settings and a sample message.
  RED.httpAdmin.post('/genix/normalizer/try', RED.auth.needsPermission(''), requireScope('genix-normalizer.write'), (req: any, res: any) => {
    let cfg: NormalizerConfig;
    let topic: string;
    let payload: string;
    try {
      const body = jsonBody(req);
      cfg = objectField(body, 'config') as NormalizerConfig;
      topic = stringField(body, 'topic', { max: 1024 }) ?? '';
      payload = typeof body.payload === 'string' ? body.payload : body.payload === undefined ? '' : JSON.stringify(body.payload);
      if (payload.length > 1_000_000) throw new RequestError('payload is longer than 1000000 characters');
    } catch (err) {
      sendError(res, err);
      return;
    }
    let enrich: Enrichment | null = null;
    try {
      const e: Enrichment = {};
      for (const s of sources(cfg)) {
        if (s.type === 'str') put(e, s, text(s.value));
        else if (s.type === 'env') put(e, s, text(process.env[s.value]) ?? `(env ${s.value})`);
        else put(e, s, `(${s.type}.${s.value})`);
      }
      enrich = Object.keys(e).length > 0 ? e : null;
    } catch (err: any) {
      res.json({ configError: err.message, readings: [], invalid: [] });
      return;
    }
    res.json(tryNormalize(cfg, topic, payload, enrich));
  });
};
