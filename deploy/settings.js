// Node-RED settings for the genix gateway container (deploy/Dockerfile copies this file to
// /usr/src/node-red/genix-settings.js; the user directory is /data, the StatefulSet's volume).
// Everything secret comes from the environment, which the StatefulSet fills from a Secret:
//   NODE_RED_CREDENTIAL_SECRET   required: encrypts flows_cred.json (OPC-UA and cloud passwords)
//   NODE_RED_ADMIN_PASSWORD_HASH bcrypt hash of the editor password; unset = editor without login
//   NODE_RED_ADMIN_USER          editor user name (default "admin")
//   GENIX_METRICS_TOKEN          bearer token Prometheus sends; grants genix-metrics.read only
'use strict';

const env = process.env;
if (!env.NODE_RED_CREDENTIAL_SECRET) {
  throw new Error('NODE_RED_CREDENTIAL_SECRET is not set: put credentialSecret in the Secret the StatefulSet reads (see deploy/README.md)');
}

const adminAuth = env.NODE_RED_ADMIN_PASSWORD_HASH
  ? {
      type: 'credentials',
      users: [
        { username: env.NODE_RED_ADMIN_USER || 'admin', password: env.NODE_RED_ADMIN_PASSWORD_HASH, permissions: '*' },
        // the static token's user; '!' is no bcrypt hash, so nobody can sign in as it with a password
        { username: 'prometheus', password: '!', permissions: ['genix-metrics.read'] },
      ],
      // a static API token: Prometheus scrapes /genix/metrics with "Authorization: Bearer <token>"
      tokens: env.GENIX_METRICS_TOKEN ? [{ token: env.GENIX_METRICS_TOKEN, user: 'prometheus', scope: ['genix-metrics.read'] }] : [],
    }
  : undefined;

module.exports = {
  uiHost: env.GENIX_LISTEN_HOST || '0.0.0.0',
  uiPort: Number(env.PORT) || 1880,
  flowFile: 'flows.json',
  credentialSecret: env.NODE_RED_CREDENTIAL_SECRET,
  adminAuth,
  // the probes call <httpAdminRoot>/genix/health/live and /ready, which need no login
  httpAdminRoot: '/',
  httpNodeRoot: '/api',
  genixOps: {
    health: {
      // liveness fails after a stall longer than this within the window; the window (10 s) stays
      // below periodSeconds × (failureThreshold − 1) of the liveness probe, so one stall never restarts the pod
      maxEventLoopDelayMs: 5000,
      windowMs: 10000,
    },
  },
  // a plant network has no internet: no update check, no flow catalogue download
  telemetry: { enabled: false },
  diagnostics: { enabled: true, ui: false },
  runtimeState: { enabled: false, ui: false },
  editorTheme: { tours: false, palette: { catalogues: [] }, projects: { enabled: false } },
  logging: { console: { level: env.NODE_RED_LOG_LEVEL || 'info', metrics: false, audit: false } },
  exportGlobalContextKeys: false,
  // the image holds the nodes: installs from the palette would be lost with the next image anyway
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
};
