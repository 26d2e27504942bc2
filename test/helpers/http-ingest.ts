// An HTTP(S) ingestion server under the test's control: scripted status codes, Retry-After, gzip and NDJSON bodies.
import http from 'http';
import https from 'https';
import zlib from 'zlib';
import { AddressInfo } from 'net';

export interface IngestRequest {
  headers: http.IncomingHttpHeaders;
  /** parsed readings: a JSON object becomes [object], an array stays, NDJSON becomes one item per line */
  readings: any[];
  raw: string;
  status: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** hold the response this long (timeouts) */
  delayMs?: number;
}

export interface IngestServer {
  url: string;
  port: number;
  requests: IngestRequest[];
  /** accepted (2xx) readings, in arrival order */
  accepted: any[];
  /** replies to use for the next requests, in order; when empty, `fallback` */
  script: Reply[];
  fallback: Reply;
  close(): Promise<void>;
}

export async function startIngest(opts: { tls?: { key: string; cert: string; ca?: string; requestCert?: boolean } } = {}): Promise<IngestServer> {
  const state: IngestServer = {
    url: '',
    port: 0,
    requests: [],
    accepted: [],
    script: [],
    fallback: { status: 200 },
    close: async () => undefined,
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let buf = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
      const raw = buf.toString('utf8');
      let readings: any[] = [];
      if (String(req.headers['content-type']).includes('ndjson')) readings = raw.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      else {
        const v = JSON.parse(raw);
        readings = Array.isArray(v) ? v : [v];
      }
      const reply = state.script.shift() ?? state.fallback;
      state.requests.push({ headers: req.headers, readings, raw, status: reply.status });
      if (reply.status >= 200 && reply.status < 300) state.accepted.push(...readings);
      const answer = () => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end();
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  };
  const server = opts.tls
    ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: !!opts.tls.requestCert, rejectUnauthorized: !!opts.tls.requestCert }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.address() as AddressInfo).port;
  state.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${state.port}/ingest`;
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
  return state;
}
