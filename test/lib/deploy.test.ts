// deploy/: the Kubernetes manifests against the Kubernetes JSON schemas (kubernetes-models, offline),
// their wiring to the gateway (probes, port, Secret, volume), resources against the benchmark, and
// the Dockerfile read as text (Docker does not run here: the image is not built).
import assert from 'assert';
import fs from 'fs';
import path from 'path';
import YAML from 'yaml';
import { DockerfileParser } from 'dockerfile-ast';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Service } from 'kubernetes-models/v1/Service';

const root = path.resolve(__dirname, '../..');
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const docs = (p: string): any[] => YAML.parseAllDocuments(read(p)).map((d) => {
  assert.deepStrictEqual(d.errors, [], `${p} parses as YAML`);
  return d.toJS();
});

const models: Record<string, (o: any) => { validate(): void }> = {
  'apps/v1 StatefulSet': (o) => new StatefulSet(o),
  'v1 Service': (o) => new Service(o),
};
const validate = (o: any) => {
  const make = models[`${o.apiVersion} ${o.kind}`];
  assert.ok(make, `a schema for ${o.apiVersion} ${o.kind}`);
  make(o).validate();
};

/** Kubernetes quantities as numbers: cores, bytes. */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  assert.ok(m, `quantity ${q}`);
  const f: Record<string, number> = { '': 1, m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
  return Number(m[1]) * f[m[2] ?? ''];
}

describe('deploy: Kubernetes manifests', () => {
  const all = [...docs('deploy/kubernetes/statefulset.yaml'), ...docs('deploy/kubernetes/service.yaml')];
  const sts = all.find((o) => o.kind === 'StatefulSet');
  const container = sts.spec.template.spec.containers[0];

  it('every object is valid against the Kubernetes schemas', () => {
    assert.strictEqual(all.length, 3);
    for (const o of all) validate(o);
  });

  it('the schema check can fail: a wrong type is refused', () => {
    const bad = structuredClone(sts);
    bad.spec.template.spec.containers[0].ports[0].containerPort = 'eighteen-eighty';
    assert.throws(() => validate(bad), /containerPort/);
  });

  it('probes call the health endpoints on the port Node-RED listens on', () => {
    const settings = read('deploy/settings.js');
    assert.match(settings, /uiPort: Number\(env\.PORT\) \|\| 1880/);
    assert.match(settings, /httpAdminRoot: '\/'/);
    assert.deepStrictEqual(container.ports, [{ name: 'http', containerPort: 1880 }]);
    assert.deepStrictEqual(container.livenessProbe.httpGet, { path: '/genix/health/live', port: 'http' });
    assert.deepStrictEqual(container.startupProbe.httpGet, { path: '/genix/health/live', port: 'http' });
    assert.deepStrictEqual(container.readinessProbe.httpGet, { path: '/genix/health/ready', port: 'http' });
    // one event-loop stall stays within the plugin's 10 s window: it fails fewer probes than it takes to restart
    const live = container.livenessProbe;
    assert.match(settings, /windowMs: 10000/);
    assert.ok(10 < live.periodSeconds * (live.failureThreshold - 1), 'window < period × (failureThreshold − 1)');
  });

  it('credentials come from a Secret, never from a literal in the manifest', () => {
    const env = container.env as any[];
    const secret = env.find((e) => e.name === 'NODE_RED_CREDENTIAL_SECRET');
    assert.deepStrictEqual(secret.valueFrom.secretKeyRef, { name: 'genix-gateway-secrets', key: 'credentialSecret' });
    for (const e of env) if (/SECRET|PASSWORD|TOKEN|KEY/i.test(e.name)) assert.ok(e.value === undefined && e.valueFrom?.secretKeyRef, `${e.name} from a Secret`);
    assert.match(read('deploy/settings.js'), /credentialSecret: env\.NODE_RED_CREDENTIAL_SECRET/);
  });

  it('the user directory (flows, credentials, buffers) is on a PersistentVolumeClaim', () => {
    const mount = container.volumeMounts.find((m: any) => m.mountPath === '/data');
    assert.ok(mount, '/data is mounted');
    const claim = sts.spec.volumeClaimTemplates.find((c: any) => c.metadata.name === mount.name);
    assert.ok(claim, 'from a volumeClaimTemplate');
    assert.deepStrictEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.ok(quantity(claim.spec.resources.requests.storage) >= 1024 ** 3);
    assert.strictEqual(sts.spec.replicas, 1);
    const headless = all.find((o) => o.kind === 'Service' && o.metadata.name === sts.spec.serviceName);
    assert.ok(headless, 'the governing service exists');
    assert.strictEqual(headless.spec.clusterIP, 'None');
    for (const svc of all.filter((o) => o.kind === 'Service')) assert.deepStrictEqual(svc.spec.selector, sts.spec.template.metadata.labels);
  });

  it('resources are sized from the plant benchmark in bench/results.json', () => {
    const results = JSON.parse(read('bench/results.json')).results as any[];
    const cpu = results.find((r) => r.bench === 'plant' && /gateway CPU/.test(r.name));
    const rss = results.find((r) => r.bench === 'plant' && /gateway RSS/.test(r.name));
    assert.ok(cpu && rss, 'plant CPU and RSS figures');
    assert.strictEqual(cpu.unit, '% of a core');
    assert.strictEqual(rss.unit, 'MB');
    const { requests, limits } = container.resources;
    assert.ok(quantity(requests.cpu) >= cpu.value / 100, `cpu request ${requests.cpu} ≥ ${cpu.value} % of a core`);
    assert.ok(quantity(requests.memory) >= rss.value * 1024 ** 2, `memory request ${requests.memory} ≥ ${rss.value} MB`);
    assert.ok(quantity(limits.memory) >= 2 * rss.value * 1024 ** 2, `memory limit ${limits.memory} ≥ 2 × ${rss.value} MB`);
    assert.ok(quantity(limits.cpu) >= 1, 'a replay after an outage may use a whole core');
  });
});

describe('deploy: Dockerfile (read as text)', () => {
  const text = read('deploy/Dockerfile');
  const df = DockerfileParser.parse(text);
  const ins = df.getInstructions();
  const args = new Map(df.getARGs().map((a) => [a.getProperty()!.getName(), a.getProperty()!.getValue() ?? '']));
  const resolve = (s: string) => s.replace(/\$\{?([A-Za-z_]+)\}?/g, (_m, n) => args.get(n) ?? '');

  it('builds on the official Node-RED image, pinned to a version', () => {
    const froms = df.getFROMs();
    assert.strictEqual(froms.length, 1);
    const image = resolve(froms[0].getImage()!);
    assert.match(image, /^nodered\/node-red:4\.\d+\.\d+-(22|24)$/, image);
  });

  it('installs the package from its npm pack tarball, outside the /data volume', () => {
    const pkg = JSON.parse(read('package.json'));
    const tarball = `${pkg.name.replace('@', '').replace('/', '-')}-*.tgz`;
    const copy = ins.find((i) => i.getKeyword() === 'COPY' && i.getArguments().some((a) => a.getValue() === tarball));
    assert.ok(copy, `COPY ${tarball}`);
    const run = ins.find((i) => i.getKeyword() === 'RUN' && /npm install/.test(i.getTextContent()));
    assert.ok(run && run.getTextContent().includes(tarball.replace(/^/, '/tmp/genix/')), 'npm install of the copied tarball');
    assert.ok(!/\/data/.test(run!.getTextContent()), 'not installed into /data');
    const ignore = read('deploy/Dockerfile.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepStrictEqual(ignore, ['*', `!${tarball}`, '!deploy/settings.js'], 'the build context is the tarball and the settings only');
  });

  it('bakes in no secret and runs as the image\'s unprivileged user with our settings', () => {
    for (const i of ins) {
      if (i.getKeyword() === 'ENV' || i.getKeyword() === 'ARG') assert.doesNotMatch(i.getTextContent(), /SECRET|PASSWORD|TOKEN|CREDENTIAL/i, i.getTextContent());
      if (i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD') assert.doesNotMatch(i.getTextContent(), /flows_cred|\.config\.|\.pem|\.key|\.env/, i.getTextContent());
    }
    const users = ins.filter((i) => i.getKeyword() === 'USER');
    assert.strictEqual(users.at(-1)?.getArguments()[0].getValue(), 'node-red');
    const cmd = ins.filter((i) => i.getKeyword() === 'CMD').at(-1)!;
    assert.deepStrictEqual(JSON.parse(cmd.getArgumentsContent()!), ['--settings', '/usr/src/node-red/genix-settings.js']);
    assert.ok(ins.some((i) => i.getKeyword() === 'COPY' && /deploy\/settings\.js \/usr\/src\/node-red\/genix-settings\.js/.test(i.getTextContent())));
  });
});

describe('package.json: the operations plugin ships', () => {
  const pkg = JSON.parse(read('package.json'));

  it('is registered as a Node-RED plugin inside the published files, with prom-client at run time', () => {
    const entry = pkg['node-red'].plugins['genix-ops'];
    assert.strictEqual(entry, 'dist/nodes/genix-ops.js');
    assert.ok((pkg.files as string[]).some((f) => entry.startsWith(f)), `${entry} is in "files"`);
    assert.ok(fs.existsSync(path.join(root, 'nodes', 'genix-ops.ts')));
    assert.match(pkg.dependencies['prom-client'], /^\^15\./);
    const promPkg = JSON.parse(fs.readFileSync(require.resolve('prom-client/package.json'), 'utf8'));
    for (const s of ['preinstall', 'install', 'postinstall']) assert.strictEqual(promPkg.scripts?.[s], undefined, `prom-client has no ${s} script (no native build)`);
    assert.strictEqual(promPkg.gypfile, undefined);
  });
});
