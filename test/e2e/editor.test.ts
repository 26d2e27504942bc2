// Every genix node's editor as a plant integrator meets it: a real Node-RED process with one of each node
// configured, driven in headless Chromium. Per node: palette entry (genix category, label, icon), the dialog
// opens without page errors, every label is translated, fields show the configured values, Done closes it
// without validation errors or spurious changes, and the help sidebar shows the node's help. Screenshots
// of every dialog go to GENIX_SHOTS_DIR (default: a fresh temp folder, printed) for a human to look at.
import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from '../helpers/net';
import { startRedProcess, RedProcess } from '../helpers/red-process';
import { requirePrereq } from '../helpers/prereq';

const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const RAW_KEY = /\bgenix-[a-z-]+\.[A-Za-z][\w-]*(\.[\w-]+)*/;

interface FieldCheck {
  /** jQuery selector inside the dialog */
  sel: string;
  /** expected value: compared with .val(), .is(':checked') for booleans, typedInput('value') when typed */
  want: string | boolean;
  typed?: boolean;
}

interface NodeCase {
  id: string;
  type: string;
  config: boolean;
  paletteLabel?: string;
  icon?: string;
  fields: FieldCheck[];
  /** extra checks run in the page with the dialog open; returns a list of problems */
  extra?: string;
}

function editorFlow(ports: { opcua: number; cloud: number }): { flows: object[]; creds: Record<string, object> } {
  const z = 'gx-tab';
  const flows = [
    { id: z, type: 'tab', label: 'Line 1 gateway' },
    {
      id: 'gx-opcua-ep', type: 'genix-opcua-endpoint', name: 'Line 1 PLC', endpointUrl: `opc.tcp://127.0.0.1:${ports.opcua}/UA/Line1`,
      securityMode: 'SignAndEncrypt', securityPolicy: 'Aes256_Sha256_RsaPss', authType: 'username', acceptUnknownCertificates: false,
      userCertificateFile: '', userPrivateKeyFile: '', sessionTimeoutMs: 60000, keepAliveMs: 5000, watchdogMs: 20000,
      backoffMinMs: 1000, backoffMaxMs: 30000, requestTimeoutMs: 10000,
    },
    {
      id: 'gx-poller', type: 'genix-opcua-poller', z, name: 'Line 1 tags', endpoint: 'gx-opcua-ep', mode: 'subscribe', intervalMs: 250,
      output: 'batch', queueSize: 10, deadbandType: 'absolute', deadbandValue: 0.1, trigger: 'status-value',
      backfill: 'on', backfillWindowMin: 30, backfillRate: 5000, backfillValuesPerRead: 500,
      items: [
        { nodeId: 'ns=2;s=Line1.Temp', sensorId: 'TEMP-01', unit: 'degC' },
        { nodeId: 'ns=2;i=1001', sensorId: 'PRES-01', unit: 'bar' },
        { nodeId: 'nsu=urn:plant:line1;s=Motor.Vibration', sensorId: 'VIB-01' },
      ],
      x: 150, y: 100, wires: [['gx-normalizer']],
    },
    {
      id: 'gx-normalizer', type: 'genix-normalizer', z, name: 'normalize line 1', sensorIdFrom: 'topic', topicPattern: 'sensors/+sensorId/data',
      sensorIdPath: '', sensorIdValue: '', values: [], tsPath: '', tsFormat: 'auto', unitPath: '', qualityPath: '',
      skew: 'correct', maxFutureMs: 60000, maxPastMs: 604800000,
      rules: [
        { match: 'temperature', from: 'degC', to: '', min: '-40', max: '200', rawMin: '', rawMax: '', engMin: '', engMax: '', outOfRange: 'uncertain' },
        { match: 'PRES-*', from: 'bar', to: '', min: '', max: '', rawMin: '4', rawMax: '20', engMin: '0', engMax: '10', outOfRange: 'invalid' },
      ],
      plantId: 'plant-hamburg', plantIdType: 'str', lineId: 'line-1', lineIdType: 'str', assetId: 'PLANT_ASSET', assetIdType: 'env',
      tags: [{ key: 'source', value: 'mqtt-sim', type: 'str' }], output: 'each', maxBytes: 1048576, maxReadings: 20000, maxDepth: 32,
      x: 390, y: 100, wires: [['gx-anomaly'], []],
    },
    {
      id: 'gx-anomaly', type: 'genix-anomaly', z, name: 'line 1 alarms',
      rules: [
        { match: 'TEMP-*', hihi: 90, hi: 80, lo: 5, lolo: 0, deadband: 1, onDelayMs: 2000 },
        { match: 'PRES-*', baseline: 3.2, deviation: 0.75 },
        { match: '*', staleMs: 10000 },
      ],
      store: '', saveEveryMs: 10000, sweepMs: 500, liveClock: true,
      x: 630, y: 100, wires: [['gx-buffer'], []],
    },
    {
      id: 'gx-buffer', type: 'genix-store-forward', z, name: 'readings buffer', dbPath: '', synchronous: 'FULL', engine: 'better-sqlite3', maxMessages: 500000,
      maxBytes: 536870912, overflow: 'drop-oldest', ttlMs: 604800000, maxInFlight: 200, maxInFlightReadings: 20000, order: 'live-first', ackTimeoutMs: 15000, replayRate: 2000,
      replayBatchSize: 200, retryMinMs: 1000, retryMaxMs: 60000, storeProperties: 'correlationId', metricsIntervalMs: 10000,
      startPaused: false, x: 390, y: 220, wires: [['gx-publisher'], []],
    },
    {
      id: 'gx-cloud-ep', type: 'genix-cloud-endpoint', name: 'plant cloud', protocol: 'mqtt', url: `mqtt://127.0.0.1:${ports.cloud}`,
      clientId: 'genix-hamburg-gw1', tls: '', protocolVersion: '5', keepalive: 30, cleanSession: false, stateTopic: 'gateways/{clientId}/state',
      reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 1000, httpFormat: 'json', gzip: false,
      apiKeyHeader: '', timeoutMs: 10000,
    },
    { id: 'gx-tls', type: 'tls-config', name: 'plant cloud CA', cert: '', key: '', ca: '', certname: '', keyname: '', caname: '', servername: '', verifyservercert: true, alpnprotocol: '' },
    {
      id: 'gx-cloud-https', type: 'genix-cloud-endpoint', name: 'ingest api', protocol: 'http', url: `https://127.0.0.1:${ports.cloud}/v1/readings`,
      clientId: '', tls: 'gx-tls', protocolVersion: '4', keepalive: 60, cleanSession: true, stateTopic: '',
      reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000, maxInFlight: 8, httpFormat: 'ndjson', gzip: true,
      apiKeyHeader: 'x-api-key', timeoutMs: 5000,
    },
    // saved by an earlier version: a TLS config beside an unencrypted URL (the runtime ignores it there)
    {
      id: 'gx-cloud-legacy', type: 'genix-cloud-endpoint', name: 'old broker', protocol: 'mqtt', url: 'mqtt://127.0.0.1:1883', clientId: '', tls: 'gx-tls',
      protocolVersion: '4', keepalive: 60, cleanSession: true, stateTopic: '', reconnectMinMs: 1000, reconnectMaxMs: 30000, connectTimeoutMs: 10000,
      maxInFlight: 2000, httpFormat: 'json', gzip: false, apiKeyHeader: '', timeoutMs: 10000,
    },
    {
      id: 'gx-cloud-pubsub', type: 'genix-cloud-endpoint', name: 'analytics pubsub', protocol: 'pubsub', url: '', projectId: 'plant-analytics',
      pubsubTopic: 'sensor-data', orderingKey: '{sensorId}', attributes: 'sensorId,quality', apiEndpoint: '', timeoutMs: 15000,
      clientId: '', tls: '', protocolVersion: '4', keepalive: 60, cleanSession: true, stateTopic: '', reconnectMinMs: 1000, reconnectMaxMs: 30000,
      connectTimeoutMs: 10000, maxInFlight: 200, answerTimeoutMs: 30000, sessionExpirySec: 3600, httpFormat: 'json', gzip: false, apiKeyHeader: '',
    },
    {
      id: 'gx-publisher', type: 'genix-cloud-publisher', z, name: 'to plant cloud', endpoint: 'gx-cloud-ep',
      topic: 'plants/{plantId}/{lineId}/{sensorId}', qos: '1', batchMaxMessages: 100, batchMaxMs: 200, batchMaxBytes: 131072,
      x: 630, y: 220, wires: [['gx-buffer']],
    },
    {
      id: 'gx-sparkplug', type: 'genix-sparkplug-out', z, name: 'to SCADA', endpoint: 'gx-cloud-ep', group: 'hamburg', edgeNode: 'gw1',
      deviceField: 'lineId', defaultDevice: 'readings', alarmDevice: 'alarms', hostId: 'scada', stateVersion: '2.2', x: 630, y: 300, wires: [[]],
    },
  ];
  const creds = {
    'gx-opcua-ep': { username: 'line1-reader', password: 'plc-secret' },
    'gx-cloud-ep': { username: 'gw-hamburg-1', password: 'cloud-secret' },
    'gx-cloud-https': { token: 'api-secret' },
    'gx-cloud-pubsub': { serviceAccountKey: '{"type":"service_account","client_email":"gw@plant-analytics.iam.gserviceaccount.com","private_key":"k"}' },
  };
  return { flows, creds };
}

const cases: NodeCase[] = [
  {
    id: 'gx-opcua-ep', type: 'genix-opcua-endpoint', config: true,
    fields: [
      { sel: '#node-config-input-name', want: 'Line 1 PLC' },
      { sel: '#node-config-input-securityMode', want: 'SignAndEncrypt' },
      { sel: '#node-config-input-securityPolicy', want: 'Aes256_Sha256_RsaPss' },
      { sel: '#node-config-input-authType', want: 'username' },
      { sel: '#node-config-input-username', want: 'line1-reader' },
      { sel: '#node-config-input-acceptUnknownCertificates', want: false },
      { sel: '#node-config-input-watchdogMs', want: '20000' },
    ],
    // the rows that belong to the chosen security mode and user type are the visible ones
    extra: `(() => {
      const p = [];
      if (!$('#node-config-input-securityPolicy').is(':visible')) p.push('security policy hidden although the mode is SignAndEncrypt');
      if (!$('#node-config-input-username').is(':visible')) p.push('username hidden although the user type is username');
      if ($('#node-config-input-userCertificateFile').is(':visible')) p.push('user certificate file shown for username authentication');
      return p;
    })()`,
  },
  {
    id: 'gx-poller', type: 'genix-opcua-poller', config: false, paletteLabel: 'opcua poller', icon: 'genix-opcua.svg',
    fields: [
      { sel: '#node-input-name', want: 'Line 1 tags' },
      { sel: '#node-input-endpoint', want: 'gx-opcua-ep' },
      { sel: '#node-input-mode', want: 'subscribe' },
      { sel: '#node-input-intervalMs', want: '250' },
      { sel: '#node-input-output', want: 'batch' },
      { sel: '#node-input-backfill', want: 'on' },
      { sel: '#node-input-backfillWindowMin', want: '30' },
      { sel: '#node-input-deadbandType', want: 'absolute' },
      { sel: '#node-input-deadbandValue', want: '0.1' },
      { sel: '#node-input-trigger', want: 'status-value' },
    ],
    extra: `(() => {
      const rows = $('#node-input-item-list').editableList('items').map(function () {
        return [$(this).find('.genix-nodeid').val(), $(this).find('.genix-sensorid').val(), $(this).find('.genix-unit').val()].join('|');
      }).get();
      const want = ['ns=2;s=Line1.Temp|TEMP-01|degC', 'ns=2;i=1001|PRES-01|bar', 'nsu=urn:plant:line1;s=Motor.Vibration|VIB-01|'];
      return JSON.stringify(rows) === JSON.stringify(want) ? [] : ['items shown: ' + JSON.stringify(rows)];
    })()`,
  },
  {
    id: 'gx-normalizer', type: 'genix-normalizer', config: false, paletteLabel: 'normalizer', icon: 'genix-normalizer.svg',
    fields: [
      { sel: '#node-input-name', want: 'normalize line 1' },
      { sel: '#node-input-sensorIdFrom', want: 'topic' },
      { sel: '#node-input-topicPattern', want: 'sensors/+sensorId/data' },
      { sel: '#node-input-skew', want: 'correct' },
      { sel: '#node-input-maxPastMs', want: '604800000' },
      { sel: '#node-input-plantId', want: 'plant-hamburg', typed: true },
      { sel: '#node-input-assetId', want: 'PLANT_ASSET', typed: true },
      { sel: '#node-input-output', want: 'each' },
    ],
    extra: `(() => {
      const p = [];
      const rules = $('#node-input-rules-container').editableList('items').map(function () {
        return [$(this).find('.gx-r-match').val(), $(this).find('.gx-r-from').val(), $(this).find('.gx-r-rawMin').val(), $(this).find('.gx-r-outOfRange').val()].join('|');
      }).get();
      if (JSON.stringify(rules) !== JSON.stringify(['temperature|degC||uncertain', 'PRES-*|bar|4|invalid'])) p.push('rules shown: ' + JSON.stringify(rules));
      const tags = $('#node-input-tags-container').editableList('items').map(function () {
        return $(this).find('.gx-t-key').val() + '=' + $(this).find('.gx-t-value').typedInput('value');
      }).get();
      if (JSON.stringify(tags) !== JSON.stringify(['source=mqtt-sim'])) p.push('tags shown: ' + JSON.stringify(tags));
      if ($('#node-input-assetId').typedInput('type') !== 'env') p.push('asset type shown: ' + $('#node-input-assetId').typedInput('type'));
      if (!$('#node-input-topicPattern').is(':visible')) p.push('topic pattern hidden although sensorId comes from the topic');
      if ($('#node-input-sensorIdPath').is(':visible')) p.push('sensorId path shown although sensorId comes from the topic');
      return p;
    })()`,
  },
  {
    id: 'gx-anomaly', type: 'genix-anomaly', config: false, paletteLabel: 'anomaly', icon: 'genix-anomaly.svg',
    fields: [
      { sel: '#node-input-name', want: 'line 1 alarms' },
      { sel: '#node-input-saveEveryMs', want: '10000' },
      { sel: '#node-input-sweepMs', want: '500' },
      { sel: '#node-input-liveClock', want: true },
    ],
    extra: `(() => {
      const n = RED.nodes.node('gx-anomaly');
      const ed = n.rulesEditor;
      if (!ed) return ['no rules editor'];
      let shown;
      try { shown = JSON.parse(ed.getValue()); } catch (e) { return ['rules editor text is not JSON: ' + ed.getValue()]; }
      const p = [];
      if (JSON.stringify(shown) !== JSON.stringify(n.rules)) p.push('rules editor shows ' + JSON.stringify(shown));
      if ($('#node-input-rules-problem').text().trim()) p.push('rules problem shown for valid rules: ' + $('#node-input-rules-problem').text());
      if ($('#node-input-rules-editor').height() < 120) p.push('rules editor only ' + $('#node-input-rules-editor').height() + ' px high');
      return p;
    })()`,
  },
  {
    id: 'gx-buffer', type: 'genix-store-forward', config: false, paletteLabel: 'store forward', icon: 'genix-store-forward.svg',
    fields: [
      { sel: '#node-input-name', want: 'readings buffer' },
      { sel: '#node-input-dbPath', want: '' },
      { sel: '#node-input-synchronous', want: 'FULL' },
      { sel: '#node-input-engine', want: 'better-sqlite3' },
      { sel: '#node-input-maxMessages', want: '500000' },
      { sel: '#node-input-maxBytes', want: '536870912' },
      { sel: '#node-input-overflow', want: 'drop-oldest' },
      { sel: '#node-input-ttlMs', want: '604800000' },
      { sel: '#node-input-ackTimeoutMs', want: '15000' },
      { sel: '#node-input-replayRate', want: '2000' },
      { sel: '#node-input-storeProperties', want: 'correlationId' },
      { sel: '#node-input-startPaused', want: false },
    ],
  },
  {
    id: 'gx-cloud-ep', type: 'genix-cloud-endpoint', config: true,
    fields: [
      { sel: '#node-config-input-name', want: 'plant cloud' },
      { sel: '#node-config-input-protocol', want: 'mqtt' },
      { sel: '#node-config-input-url', want: 'mqtt://127.0.0.1:PORT' },
      { sel: '#node-config-input-clientId', want: 'genix-hamburg-gw1' },
      { sel: '#node-config-input-protocolVersion', want: '5' },
      { sel: '#node-config-input-cleanSession', want: false },
      { sel: '#node-config-input-username', want: 'gw-hamburg-1' },
      { sel: '#node-config-input-maxInFlight', want: '1000' },
      { sel: '#genix-cloud-use-tls', want: false },
    ],
    // plain mqtt://: no TLS row, the MQTT and Reconnect sections, no HTTP section, no token (HTTP only)
    extra: `(() => {
      const p = [];
      const shown = (sel) => $(sel).is(':visible');
      if (shown('#node-config-input-tls')) p.push('TLS config shown for mqtt:// without TLS');
      if (!shown('#node-config-input-keepalive') || !shown('#node-config-input-reconnectMinMs') || !shown('#node-config-input-clientId')) p.push('MQTT fields hidden for MQTT');
      if (!$('#genix-cloud-mqtt-section #node-config-input-maxInFlight').length) p.push('max in flight is not in the MQTT section');
      if (shown('#node-config-input-httpFormat') || shown('#node-config-input-timeoutMs')) p.push('HTTP fields shown for MQTT');
      if (shown('#node-config-input-token')) p.push('token shown for MQTT although none is stored');
      const titles = $('.genix-cloud-form h4:visible').map(function () { return $(this).text().trim(); }).get();
      if (JSON.stringify(titles) !== JSON.stringify(['Connection', 'Authentication', 'MQTT', 'Reconnect'])) p.push('sections ' + JSON.stringify(titles));
      if (!/^Edit cloud endpoint node/.test($('.red-ui-tray-titlebar').last().text().trim())) p.push('dialog title ' + $('.red-ui-tray-titlebar').last().text());
      return p;
    })()`,
  },
  {
    id: 'gx-cloud-https', type: 'genix-cloud-endpoint', config: true,
    fields: [
      { sel: '#node-config-input-protocol', want: 'http' },
      { sel: '#node-config-input-url', want: 'https://127.0.0.1:PORT/v1/readings' },
      { sel: '#genix-cloud-use-tls', want: true },
      { sel: '#node-config-input-tls', want: 'gx-tls' },
      { sel: '#node-config-input-httpFormat', want: 'ndjson' },
      { sel: '#node-config-input-gzip', want: true },
      { sel: '#node-config-input-apiKeyHeader', want: 'x-api-key' },
      { sel: '#node-config-input-timeoutMs', want: '5000' },
      { sel: '#node-config-input-token', want: '__PWRD__' },
      { sel: '#node-config-input-maxInFlight', want: '8' },
    ],
    extra: `(() => {
      const p = [];
      const shown = (sel) => $(sel).is(':visible');
      if (!shown('#node-config-input-tls')) p.push('TLS config hidden although one is set');
      if (shown('#genix-cloud-tls-plain')) p.push('plain-URL warning shown for https://');
      if (!shown('#node-config-input-token')) p.push('token hidden for HTTP');
      if (shown('#node-config-input-keepalive') || shown('#node-config-input-clientId') || shown('#node-config-input-reconnectMinMs')) p.push('MQTT fields shown for HTTP');
      if (!$('#genix-cloud-http-section #node-config-input-maxInFlight:visible').length) p.push('max in flight is not in the HTTP section');
      const titles = $('.genix-cloud-form h4:visible').map(function () { return $(this).text().trim(); }).get();
      if (JSON.stringify(titles) !== JSON.stringify(['Connection', 'Authentication', 'HTTP'])) p.push('sections ' + JSON.stringify(titles));
      return p;
    })()`,
  },
  {
    id: 'gx-cloud-pubsub', type: 'genix-cloud-endpoint', config: true,
    fields: [
      { sel: '#node-config-input-protocol', want: 'pubsub' },
      { sel: '#node-config-input-projectId', want: 'plant-analytics' },
      { sel: '#node-config-input-pubsubTopic', want: 'sensor-data' },
      { sel: '#node-config-input-serviceAccountKey', want: '__PWRD__' },
      { sel: '#node-config-input-orderingKey', want: '{sensorId}' },
      { sel: '#node-config-input-attributes', want: 'sensorId,quality' },
      { sel: '#node-config-input-apiEndpoint', want: '' },
      { sel: '#node-config-input-timeoutMs', want: '15000' },
    ],
    // Pub/Sub: its own section with the timeout; no URL, TLS, username/password/token, MQTT or HTTP rows
    extra: `(() => {
      const p = [];
      const shown = (sel) => $(sel).is(':visible');
      if (shown('#node-config-input-url') || shown('#genix-cloud-use-tls') || shown('#node-config-input-tls')) p.push('URL or TLS shown for Pub/Sub');
      if (shown('#node-config-input-username') || shown('#node-config-input-password') || shown('#node-config-input-token')) p.push('MQTT/HTTP credentials shown for Pub/Sub');
      if (!$('#genix-cloud-pubsub-section #node-config-input-timeoutMs:visible').length) p.push('timeout is not in the Pub/Sub section');
      if (!shown('#node-config-input-serviceAccountKey') || $('#node-config-input-serviceAccountKey').attr('type') !== 'password') p.push('service-account key not a hidden input');
      if ($('#node-config-input-projectId').hasClass('input-error')) p.push('project id marked invalid');
      const titles = $('.genix-cloud-form h4:visible').map(function () { return $(this).text().trim(); }).get();
      if (JSON.stringify(titles) !== JSON.stringify(['Connection', 'Google Cloud Pub/Sub'])) p.push('sections ' + JSON.stringify(titles));
      return p;
    })()`,
  },
  {
    id: 'gx-publisher', type: 'genix-cloud-publisher', config: false, paletteLabel: 'cloud publisher', icon: 'genix-cloud.svg',
    fields: [
      { sel: '#node-input-name', want: 'to plant cloud' },
      { sel: '#node-input-endpoint', want: 'gx-cloud-ep' },
      { sel: '#node-input-topic', want: 'plants/{plantId}/{lineId}/{sensorId}' },
      { sel: '#node-input-qos', want: '1' },
      { sel: '#node-input-batchMaxMessages', want: '100' },
      { sel: '#node-input-batchMaxMs', want: '200' },
    ],
  },
  {
    id: 'gx-sparkplug', type: 'genix-sparkplug-out', config: false, paletteLabel: 'sparkplug out', icon: 'genix-sparkplug.svg',
    fields: [
      { sel: '#node-input-name', want: 'to SCADA' },
      { sel: '#node-input-endpoint', want: 'gx-cloud-ep' },
      { sel: '#node-input-group', want: 'hamburg' },
      { sel: '#node-input-edgeNode', want: 'gw1' },
      { sel: '#node-input-hostId', want: 'scada' },
      { sel: '#node-input-stateVersion', want: '2.2' },
    ],
  },
];

// Runs in the page: every text, placeholder, option and title in the open dialog that still is an i18n key,
// and labels that came out empty.
const DIALOG_TEXT_PROBLEMS = `((rawKey) => {
  const re = new RegExp(rawKey);
  const tray = $('.red-ui-tray').last();
  const p = [];
  const seen = new Set();
  const note = (what, t) => { const k = what + ': ' + t.trim(); if (!seen.has(k)) { seen.add(k); p.push(k); } };
  const walker = document.createTreeWalker(tray[0], NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const t = walker.currentNode.textContent || '';
    if (re.test(t) && !$(walker.currentNode.parentNode).closest('script, .monaco-editor, .ace_editor').length) note('raw i18n key in text', t);
  }
  tray.find('[placeholder], [title]').each(function () {
    for (const a of ['placeholder', 'title']) { const v = $(this).attr(a); if (v && re.test(v)) note('raw i18n key in ' + a, v); }
  });
  tray.find('[data-i18n]').each(function () {
    const el = $(this);
    if (el.is('input, textarea')) return;
    if (!el.text().trim() && !el.children().length && !/^\\[/.test(el.attr('data-i18n'))) note('empty translated element', el.attr('data-i18n'));
  });
  // an editable list whose rows spill out of its box covers the form below it
  tray.find('.red-ui-editableList-container:visible').each(function () {
    const box = this.getBoundingClientRect();
    const rows = $(this).find('li:visible');
    const last = rows.length ? rows[rows.length - 1].getBoundingClientRect() : null;
    const scrolls = /auto|scroll/.test(getComputedStyle(this).overflowY);
    if (last && !scrolls && last.bottom > box.bottom + 2) note('list rows spill out of their box', $(this).find('ol').attr('id') || '?');
  });
  tray.find('label').each(function () {
    const el = $(this);
    if (el.find('[data-i18n]').length && !el.text().trim()) note('empty label', el.attr('for') || el.html());
  });
  return p;
})`;

describe('editor dialogs in a browser (real Node-RED, headless Chromium)', function () {
  this.timeout(90000);
  let red: RedProcess | undefined;
  let browser: any;
  let page: any;
  let shotsDir: string;
  let cloudPort: number;
  const pageErrors: string[] = [];
  const badResponses: string[] = [];
  const failedRequests: string[] = [];
  const runStarted = Date.now();

  before(async function () {
    requirePrereq(this, chromiumPath, 'Chromium is not installed (apt-get install chromium; .ci/run installs it)');
    cloudPort = await freePort();
    const { flows, creds } = editorFlow({ opcua: await freePort(), cloud: cloudPort });
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'genix-editor-test-'));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(creds));
    shotsDir = process.env.GENIX_SHOTS_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'genix-editor-shots-'));
    fs.mkdirSync(shotsDir, { recursive: true });
    const { chromium } = require('playwright-core');
    [red, browser] = await Promise.all([
      startRedProcess({
        userDir, flows, env: { PLANT_ASSET: 'press-7' },
        // a plant network has no route to the public palette catalogue
        settings: { editorTheme: { tours: false, palette: { catalogues: [] } } },
      }),
      chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
    page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('pageerror', (err: Error) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (m: any) => {
      // the editor catches exceptions in oneditprepare/save/cancel/resize and only logs them
      if (/^Failed to load resource/.test(m.text())) return; // reported with its URL below
      if (m.type() === 'error' || /^(onedit\w+|Deprecated API)/.test(m.text())) pageErrors.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('requestfailed', (r: any) => failedRequests.push(`${r.failure()?.errorText} ${r.url()}`));
    page.on('response', (r: any) => { if (r.status() >= 400) badResponses.push(`${r.status()} ${r.url()}`); });
    await page.goto(`${red.url}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => {
      const R = (window as any).RED;
      return R && R.nodes && R.nodes.node && R.nodes.node('gx-publisher') && R.workspaces.active() === 'gx-tab'
        && document.querySelector('.red-ui-palette-node[data-palette-type="genix-cloud-publisher"]')
        && document.querySelector('g.red-ui-flow-node-group[id="gx-publisher"]');
    }, null, { timeout: 30000 });
  });

  after(async function () {
    if (browser) await browser.close();
    if (red) await red.stop();
    if (shotsDir) process.stdout.write(`      screenshots: ${shotsDir} (whole run ${((Date.now() - runStarted) / 1000).toFixed(1)} s)\n`);
  });

  it('loads every genix node set without errors', async function () {
    const sets = await page.evaluate(async () => (await fetch('nodes', { headers: { Accept: 'application/json' } })).json());
    const ours = (sets as any[]).filter((s) => s.module === '@genix/node-red-iiot');
    assert.strictEqual(ours.flatMap((s) => s.types).length, 8, JSON.stringify(ours));
    for (const s of ours) assert.ok(!s.err, `${s.id}: ${s.err}`);
    assert.deepStrictEqual(pageErrors, []);
  });

  it('shows the five flow nodes in the genix palette category with label and icon', async function () {
    const entries = await page.evaluate(() => {
      const $ = (window as any).$;
      return $('#red-ui-palette-container-genix .red-ui-palette-node').map(function (this: any) {
        const icon = $(this).find('.red-ui-palette-icon');
        return { type: $(this).attr('data-palette-type'), label: $(this).attr('data-palette-label'), icon: $(this).find('.red-ui-palette-icon-container').attr('data-palette-icon'), bg: icon.css('background-image') || icon.find('img').attr('src') || '' };
      }).get();
    });
    const flowNodes = cases.filter((c) => !c.config);
    assert.deepStrictEqual(entries.map((e: any) => e.type).sort(), flowNodes.map((c) => c.type).sort(), JSON.stringify(entries));
    for (const c of flowNodes) {
      const e = entries.find((x: any) => x.type === c.type);
      assert.strictEqual(e.label, c.paletteLabel, `${c.type} palette label`);
      assert.ok(String(e.icon).endsWith(`@genix/node-red-iiot/${c.icon}`), `${c.type} icon ${e.icon}`);
      // the icon must really load as an image
      const size = await page.evaluate((src: string) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img.naturalWidth);
        img.onerror = () => resolve(0);
        img.src = src;
      }), e.icon);
      assert.ok(Number(size) > 0, `${c.type} icon ${e.icon} does not load`);
    }
    // config nodes stay out of the palette; nothing is left in another category
    const stray = await page.evaluate(() => (window as any).$('.red-ui-palette-node[data-palette-type^="genix-"]').filter(function (this: any) {
      return !(window as any).$(this).closest('#red-ui-palette-container-genix').length;
    }).length);
    assert.strictEqual(stray, 0);
    await page.locator('#red-ui-palette-container-genix').screenshot({ path: path.join(shotsDir, '00-palette.png') });
  });

  it('labels every node and port in the workspace with translated text', async function () {
    const labels = await page.evaluate(() => {
      const R = (window as any).RED;
      const out: Record<string, { label: string; inputs: string[]; outputs: string[] }> = {};
      for (const id of ['gx-poller', 'gx-normalizer', 'gx-anomaly', 'gx-buffer', 'gx-publisher', 'gx-opcua-ep', 'gx-cloud-ep']) {
        const n = R.nodes.node(id);
        const portLabel = (fn: any, i: number) => (typeof fn === 'function' ? fn.call(n, i) : Array.isArray(fn) ? fn[i] : fn) ?? '';
        out[id] = {
          label: R.utils.getNodeLabel(n),
          inputs: Array.from({ length: n._def.inputs || 0 }, (_x, i) => String(portLabel(n._def.inputLabels, i))),
          outputs: Array.from({ length: n._def.outputs || 0 }, (_x, i) => String(portLabel(n._def.outputLabels, i))),
        };
      }
      return out;
    });
    const problems: string[] = [];
    for (const [id, l] of Object.entries(labels) as [string, any][]) {
      if (!l.label || RAW_KEY.test(l.label)) problems.push(`${id} label "${l.label}"`);
      l.outputs.forEach((o: string, i: number) => { if (!o || RAW_KEY.test(o)) problems.push(`${id} output ${i + 1} label "${o}"`); });
      l.inputs.forEach((o: string, i: number) => { if (RAW_KEY.test(o)) problems.push(`${id} input ${i + 1} label "${o}"`); });
    }
    assert.deepStrictEqual(problems, [], JSON.stringify(labels, null, 1));
  });

  for (const [i, c] of cases.entries()) {
    it(`${c.type}: the dialog opens cleanly, shows the configuration, closes with Done and has help`, async function () {
      const errorsBefore = pageErrors.length;
      const form = c.config ? '#node-config-dialog-edit-form' : '#dialog-form';
      const ok = c.config ? '#node-config-dialog-ok' : '#node-dialog-ok';
      const before = await page.evaluate((id: string) => {
        const n = (window as any).RED.nodes.node(id);
        return JSON.stringify(Object.keys(n._def.defaults).map((k) => [k, n[k]]));
      }, c.id);
      if (c.config) {
        await page.evaluate((cc: NodeCase) => (window as any).RED.editor.editConfig('', cc.type, cc.id), c);
      } else {
        // as the integrator does: double-click the node in the workspace
        await page.locator(`g.red-ui-flow-node-group[id="${c.id}"] rect.red-ui-flow-node`).dblclick();
      }
      await page.waitForSelector(`${form}`, { state: 'visible', timeout: 10000 });
      await page.waitForSelector(ok, { state: 'visible', timeout: 10000 });
      // the help tab, as the integrator opens it beside the dialog
      await page.evaluate((type: string) => (window as any).RED.sidebar.help.show(type), c.type);
      await page.waitForFunction(() => (window as any).$('.red-ui-help-title:visible').length > 0, null, { timeout: 5000 });
      // the tray slides in and follows the sidebar: wait until Done stands still left of the sidebar
      await waitStill(page, ok);
      const problems: string[] = [];
      const textProblems: string[] = await page.evaluate(`${DIALOG_TEXT_PROBLEMS}(${JSON.stringify(RAW_KEY.source)})`);
      problems.push(...textProblems);
      const shown = await page.evaluate((fields: FieldCheck[]) => {
        const $ = (window as any).$;
        return fields.map((f) => {
          const el = $(f.sel);
          if (!el.length) return 'missing';
          if (f.typed) return el.typedInput('value');
          return typeof f.want === 'boolean' ? el.is(':checked') : String(el.val() ?? '');
        });
      }, c.fields);
      c.fields.forEach((f, k) => {
        const want = typeof f.want === 'string' ? f.want.replace('PORT', String(cloudPort)) : f.want;
        if (shown[k] !== want) problems.push(`${f.sel} shows ${JSON.stringify(shown[k])}, configured ${JSON.stringify(want)}`);
      });
      if (c.extra) problems.push(...(await page.evaluate(c.extra)));
      const marked: string[] = await page.evaluate((f: string) => (window as any).$(`${f} .input-error`).map(function (this: any) { return this.id || this.className; }).get(), form);
      if (marked.length) problems.push(`fields marked invalid: ${marked.join(', ')}`);

      const help = await page.evaluate(() => {
        const $ = (window as any).$;
        const title = $('.red-ui-help-title:visible').first();
        const body = title.nextAll('.red-ui-help').first();
        // code does not wrap in the editor: a long one runs out of the sidebar
        const edge = body[0].getBoundingClientRect().right;
        const overflow = body.find('code, dt').filter(function (this: any) { return this.getBoundingClientRect().right > edge + 2; })
          .map(function (this: any) { return $(this).text(); }).get();
        const refs = body.find('h3').filter(function (this: any) { return $(this).text().trim() === 'References'; }).nextAll('ul').first().find('a[href^="http"]');
        return { title: title.text(), references: refs.map(function (this: any) { return $(this).attr('href'); }).get(), first: body.find('p').first().text().trim(), headers: body.find('h3').map(function (this: any) { return $(this).text().trim(); }).get(), overflow };
      });
      if (help.first.length < 20) problems.push(`help first paragraph is "${help.first}"`);
      if (RAW_KEY.test(help.title)) problems.push(`help title "${help.title}"`);
      if (c.type.startsWith('genix-cloud') && help.title.trim() === c.type) problems.push(`help title is the raw type "${help.title}"`);
      if (c.type.startsWith('genix-cloud') && help.headers.includes('References') && !help.references.length) problems.push('help References without links');
      if (help.overflow.length) problems.push(`help text wider than the sidebar: ${help.overflow.join(' | ')}`);
      if (!c.config) {
        for (const h of ['Inputs', 'Outputs', 'Details']) if (!help.headers.includes(h)) problems.push(`help has no ${h} section (${help.headers.join(', ')})`);
      }

      const shot = path.join(shotsDir, `${String(i + 1).padStart(2, '0')}-${c.type}`);
      await page.screenshot({ path: `${shot}.png` });
      // a dialog taller than the window: the rest of it too
      const scrolled = await page.evaluate(() => {
        const trays = document.querySelectorAll('.red-ui-tray');
        const all = Array.from(trays[trays.length - 1].querySelectorAll('*')) as HTMLElement[];
        const el = all.find((e) => e.scrollHeight > e.clientHeight + 20 && /auto|scroll/.test(getComputedStyle(e).overflowY) && e.clientHeight > 300);
        if (!el) return false;
        el.scrollTop = el.scrollHeight;
        return true;
      });
      if (scrolled) await page.screenshot({ path: `${shot}-end.png` });

      await page.click(ok);
      await page.waitForFunction((f: string) => !(window as any).$(`${f}:visible`).length && !(window as any).$('.red-ui-tray').length, form, { timeout: 10000 });
      const after = await page.evaluate((id: string) => {
        const n = (window as any).RED.nodes.node(id);
        return { valid: n.valid, errors: n.validationErrors || [], changed: !!n.changed, now: JSON.stringify(Object.keys(n._def.defaults).map((k) => [k, n[k]])) };
      }, c.id);
      if (after.valid === false) problems.push(`invalid after Done: ${after.errors.join(', ')}`);
      const changes = diff(before, after.now);
      if (changes.length) problems.push(`Done without edits changed the node: ${changes.join('; ')}`);
      const errs = pageErrors.slice(errorsBefore);
      if (errs.length) problems.push(...errs);
      assert.deepStrictEqual(problems, [], `${c.type}:\n  ${problems.join('\n  ')}`);
    });
  }

  it('genix-cloud-endpoint: "Use TLS" follows the URL, the sections follow the protocol, and Cancel keeps the node', async function () {
    const errorsBefore = pageErrors.length;
    const before = await page.evaluate(() => { const n = (window as any).RED.nodes.node('gx-cloud-ep'); return { url: n.url, tls: n.tls, maxInFlight: n.maxInFlight }; });
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'genix-cloud-endpoint', 'gx-cloud-ep'));
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible', timeout: 10000 });
    await waitStill(page, '#node-config-dialog-ok');
    const tlsRow = page.locator('#node-config-input-tls');
    assert.strictEqual(await tlsRow.isVisible(), false);
    // ticking switches the URL to its encrypted scheme and shows the TLS config; unticking switches back
    await page.check('#genix-cloud-use-tls');
    assert.strictEqual(await page.inputValue('#node-config-input-url'), `mqtts://127.0.0.1:${cloudPort}`);
    assert.strictEqual(await tlsRow.isVisible(), true);
    assert.strictEqual(await page.locator('#genix-cloud-tls-plain').isVisible(), false);
    await page.uncheck('#genix-cloud-use-tls');
    assert.strictEqual(await page.inputValue('#node-config-input-url'), `mqtt://127.0.0.1:${cloudPort}`);
    assert.strictEqual(await tlsRow.isVisible(), false);
    // the well-known MQTT ports go along
    await page.fill('#node-config-input-url', 'mqtt://broker.example.com:1883');
    await page.check('#genix-cloud-use-tls');
    assert.strictEqual(await page.inputValue('#node-config-input-url'), 'mqtts://broker.example.com:8883');
    // typing an encrypted URL ticks the box, a plain one unticks it
    await page.fill('#node-config-input-url', 'ws://broker.example.com/mqtt');
    assert.strictEqual(await page.isChecked('#genix-cloud-use-tls'), false);
    await page.fill('#node-config-input-url', 'wss://broker.example.com/mqtt');
    assert.strictEqual(await page.isChecked('#genix-cloud-use-tls'), true);
    assert.strictEqual(await tlsRow.isVisible(), true);
    // HTTP: its section, the token, max in flight moved along with it and no MQTT-only rows
    await page.selectOption('#node-config-input-protocol', 'http');
    const http = await page.evaluate(() => {
      const $ = (window as any).$;
      return {
        sections: $('.genix-cloud-form h4:visible').map(function (this: any) { return $(this).text().trim(); }).get(),
        token: $('#node-config-input-token').is(':visible'),
        clientId: $('#node-config-input-clientId').is(':visible'),
        inFlightInHttp: $('#genix-cloud-http-section #node-config-input-maxInFlight:visible').length === 1,
        urlInvalid: $('#node-config-input-url').hasClass('input-error'),
      };
    });
    assert.deepStrictEqual(http, { sections: ['Connection', 'Authentication', 'HTTP'], token: true, clientId: false, inFlightInHttp: true, urlInvalid: true });
    // a configured value (not the MQTT default) is kept across the switch
    assert.strictEqual(await page.inputValue('#node-config-input-maxInFlight'), '1000');
    await page.locator('.red-ui-tray').last().screenshot({ path: path.join(shotsDir, '12-cloud-endpoint-http.png') });
    await page.click('#node-config-dialog-cancel');
    await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
    const after = await page.evaluate(() => { const n = (window as any).RED.nodes.node('gx-cloud-ep'); return { url: n.url, tls: n.tls, maxInFlight: n.maxInFlight }; });
    assert.deepStrictEqual(after, before);
    assert.deepStrictEqual(pageErrors.slice(errorsBefore), []);
  });

  it('genix-cloud-endpoint: a flow saved with a TLS config on mqtt:// opens ticked with a warning and stays valid', async function () {
    const errorsBefore = pageErrors.length;
    const props = () => page.evaluate(() => { const x = (window as any).RED.nodes.node('gx-cloud-legacy'); return JSON.stringify(Object.keys(x._def.defaults).map((k) => [k, x[k]])); });
    const saved = await props();
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'genix-cloud-endpoint', 'gx-cloud-legacy'));
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible', timeout: 10000 });
    await waitStill(page, '#node-config-dialog-ok');
    assert.strictEqual(await page.isChecked('#genix-cloud-use-tls'), true);
    assert.strictEqual(await page.inputValue('#node-config-input-tls'), 'gx-tls');
    assert.strictEqual(await page.locator('#genix-cloud-tls-plain').isVisible(), true);
    await page.click('#node-config-dialog-ok');
    await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
    const n = await page.evaluate(() => { const x = (window as any).RED.nodes.node('gx-cloud-legacy'); return { valid: x.valid, errors: x.validationErrors || [] }; });
    assert.deepStrictEqual(n, { valid: true, errors: [] });
    assert.deepStrictEqual(diff(saved, await props()), []);
    assert.deepStrictEqual(pageErrors.slice(errorsBefore), []);
  });

  it('genix-cloud-endpoint: unticking "Use TLS" saves a plain URL and no TLS config', async function () {
    const errorsBefore = pageErrors.length;
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'genix-cloud-endpoint', 'gx-cloud-https'));
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible', timeout: 10000 });
    await waitStill(page, '#node-config-dialog-ok');
    await page.uncheck('#genix-cloud-use-tls');
    await page.click('#node-config-dialog-ok');
    await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
    const n = await page.evaluate(() => { const x = (window as any).RED.nodes.node('gx-cloud-https'); return { valid: x.valid, url: x.url, tls: x.tls }; });
    assert.deepStrictEqual(n, { valid: true, url: `http://127.0.0.1:${cloudPort}/v1/readings`, tls: '' });
    assert.deepStrictEqual(pageErrors.slice(errorsBefore), []);
  });

  it('genix-normalizer: "try it" in the dialog shows readings for a seed-style sample and reasons for a bad one', async function () {
    const errorsBefore = pageErrors.length;
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('gx-normalizer')));
    await page.waitForSelector('#node-input-try-run', { state: 'visible', timeout: 10000 });
    // the prefilled sample is the seed sensor's message and its topic (which names the sensor for "sensorId from topic")
    assert.match(await page.inputValue('#node-input-try-payload'), /"sensor_id":"TEMP-01"/);
    assert.strictEqual(await page.inputValue('#node-input-try-topic'), 'sensors/TEMP-01/data');
    const tries = Promise.all([page.waitForResponse((r: any) => r.url().endsWith('/genix/normalizer/try')), page.click('#node-input-try-run')]);
    const [res] = await tries;
    assert.strictEqual(res.status(), 200);
    await page.waitForFunction(() => /reading/.test((window as any).$('#node-input-try-result').text()), null, { timeout: 10000 });
    const text: string = await page.locator('#node-input-try-result').innerText();
    const lines = text.split('\n');
    assert.match(lines[0], /^1 reading/, text);
    assert.match(lines[1], /^TEMP-01 temperature = 42\.5 degC · uncertain · \d{4}-/, text);
    const reading = JSON.parse(lines[2]);
    assert.strictEqual(reading.sensorId, 'TEMP-01');
    assert.strictEqual(reading.value, 42.5);
    assert.strictEqual(reading.measurement, 'temperature');
    assert.strictEqual(reading.unit, 'degC');
    assert.strictEqual(reading.plantId, 'plant-hamburg');
    assert.strictEqual(reading.lineId, 'line-1');
    // the sample's 2023 timestamp is older than the clock-skew guard's 7 days: arrival time, uncertain
    assert.strictEqual(reading.quality, 'uncertain');
    await page.locator('#node-input-try-result').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shotsDir, '10-normalizer-try-it.png') });

    // a broken sample lands in "invalid" with the reason, and nothing is deployed
    await page.fill('#node-input-try-payload', '{"sensor_id":"TEMP-01","temperature":');
    await Promise.all([page.waitForResponse((r: any) => r.url().endsWith('/genix/normalizer/try')), page.click('#node-input-try-run')]);
    await page.waitForFunction(() => /invalid/.test((window as any).$('#node-input-try-result').text()), null, { timeout: 10000 });
    const bad: string = await page.locator('#node-input-try-result').innerText();
    assert.match(bad, /^0 reading/, bad);
    assert.match(bad, /malformed_json/, bad);
    await page.click('#node-dialog-cancel');
    await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
    assert.deepStrictEqual(pageErrors.slice(errorsBefore), []);
  });

  it('a node fresh from the palette opens with its defaults and is valid (or only asks for its endpoint)', async function () {
    const errorsBefore = pageErrors.length;
    const problems: string[] = [];
    for (const [k, c] of cases.filter((x) => !x.config).entries()) {
      // drag it from the palette onto the workspace, as the integrator does
      const known: string[] = await page.evaluate((t: string) => (window as any).RED.nodes.filterNodes({ type: t }).map((n: any) => n.id), c.type);
      const from = page.locator(`#red-ui-palette-container-genix .red-ui-palette-node[data-palette-type="${c.type}"]`);
      await from.scrollIntoViewIfNeeded();
      const box = await from.boundingBox();
      const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.mouse.move(chart.x + 120, chart.y + 330 + 45 * k, { steps: 12 });
      await page.mouse.up();
      const id: string = await page.waitForFunction((a: { t: string; known: string[] }) => {
        const n = (window as any).RED.nodes.filterNodes({ type: a.t }).find((x: any) => !a.known.includes(x.id));
        return n ? n.id : null;
      }, { t: c.type, known }, { timeout: 5000 }).then((h: any) => h.jsonValue());
      await page.evaluate((i: string) => (window as any).RED.editor.edit((window as any).RED.nodes.node(i)), id);
      await page.waitForSelector('#node-dialog-ok', { state: 'visible', timeout: 10000 });
      await waitStill(page, '#node-dialog-ok');
      const text: string[] = await page.evaluate(`${DIALOG_TEXT_PROBLEMS}(${JSON.stringify(RAW_KEY.source)})`);
      problems.push(...text.map((t) => `${c.type}: ${t}`));
      await page.click('#node-dialog-ok');
      await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
      const v = await page.evaluate((i: string) => { const n = (window as any).RED.nodes.node(i); return { valid: n.valid, errors: n.validationErrors || [] }; }, id);
      const needsEndpoint = c.type === 'genix-opcua-poller' || c.type === 'genix-cloud-publisher' || c.type === 'genix-sparkplug-out';
      if (needsEndpoint ? JSON.stringify(v.errors) !== '["endpoint"]' : v.valid === false) problems.push(`${c.type} fresh: valid=${v.valid} errors=${v.errors.join(', ')}`);
    }
    problems.push(...pageErrors.slice(errorsBefore));
    assert.deepStrictEqual(problems, []);
  });

  it('genix-opcua-endpoint: "Check server certificate" answers in the dialog when the PLC is unreachable', async function () {
    const errorsBefore = pageErrors.length;
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'genix-opcua-endpoint', 'gx-opcua-ep'));
    await page.waitForSelector('#genix-opcua-check-cert', { state: 'visible', timeout: 10000 });
    const answered = page.waitForResponse((r: any) => r.url().endsWith('/genix/opcua/server-certificate'), { timeout: 20000 });
    await page.click('#genix-opcua-check-cert');
    const res = await answered;
    assert.ok(res.status() >= 400, `status ${res.status()}`);
    await page.waitForFunction(() => {
      const t = (window as any).$('#genix-opcua-cert-info').text();
      return t && !/asking the server/.test(t);
    }, null, { timeout: 5000 });
    const info: string = await page.locator('#genix-opcua-cert-info').innerText();
    assert.match(info, /connect|ECONNREFUSED|disconnect|timeout/i, info);
    assert.strictEqual(await page.locator('#genix-opcua-trust-cert').isVisible(), false, 'nothing to trust');
    await page.locator('#genix-opcua-cert-info').screenshot({ path: path.join(shotsDir, '11-opcua-check-certificate.png') });
    await page.click('#node-config-dialog-cancel');
    await page.waitForFunction(() => !(window as any).$('.red-ui-tray').length, null, { timeout: 10000 });
    assert.deepStrictEqual(pageErrors.slice(errorsBefore), []);
  });

  it('had no page errors and no failed requests over the whole session', function () {
    assert.deepStrictEqual(pageErrors, []);
    assert.deepStrictEqual(badResponses.filter((r) => !/favicon|\/genix\/opcua\/server-certificate$/.test(r)), []);
    assert.deepStrictEqual(failedRequests, []);
  });
});

/** Waits until `sel` keeps the same box over 100 ms and lies left of the sidebar (tray animations are done). */
async function waitStill(page: any, sel: string): Promise<void> {
  await page.waitForFunction((s: string) => new Promise((resolve) => {
    const box = () => { const r = document.querySelector(s)!.getBoundingClientRect(); return `${r.left},${r.right},${r.top}`; };
    const a = box();
    setTimeout(() => {
      const sidebar = document.getElementById('red-ui-sidebar');
      const limit = sidebar && sidebar.offsetWidth ? sidebar.getBoundingClientRect().left : window.innerWidth;
      resolve(box() === a && document.querySelector(s)!.getBoundingClientRect().right <= limit);
    }, 100);
  }), sel, { timeout: 10000, polling: 'raf' });
}

/** Properties that differ; a property the saved flow does not have yet (added in a later version) may come back empty. */
function diff(a: string, b: string): string[] {
  const x = new Map<string, unknown>(JSON.parse(a));
  const y = new Map<string, unknown>(JSON.parse(b));
  const out: string[] = [];
  for (const [k, v] of y) {
    const was = x.get(k);
    if (JSON.stringify(was) === JSON.stringify(v) || ((was === null || was === undefined) && v === '')) continue;
    out.push(`${k}: ${JSON.stringify(was)} -> ${JSON.stringify(v)}`);
  }
  return out;
}
