// node-opcua writes its own warnings and errors to stdout (for example "[NODE-OPCUA-W27] node
// version …" at every start on Node 20, about RSA PKCS#1 v1.5, which none of our security policies
// uses). Through node-opcua's public logger hooks they go to the Node-RED log at debug level
// instead, where an integrator who needs them finds them; what matters to a flow, the nodes report
// themselves in their status and as node errors.
import { setErrorLogger, setWarningLogger } from 'node-opcua-client';

type Sink = (text: string) => void;

/** The hooks' first argument is the caller context ({ filename, callerline }); the rest is the message. */
function forward(level: string, sink: Sink) {
  return (_context?: unknown, ...args: unknown[]): void => {
    const text = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a))).join(' ');
    sink(`node-opcua ${level}: ${text}`);
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Sends node-opcua's warnings and errors to `sink` from now on (process-wide, like the library's own hooks). */
export function routeLibraryLog(sink: Sink): void {
  setWarningLogger(forward('warning', sink));
  setErrorLogger(forward('error', sink));
}
