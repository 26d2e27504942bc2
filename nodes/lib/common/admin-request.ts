// Checks shared by the package's editor (httpAdmin) routes: body fields by type and length, the
// permission a route needs, and answers that carry a message and never a stack.

/** A request the route refuses: `status` and a message that says what to fix. */
export class RequestError extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

interface StringRule { max: number; required?: boolean; pattern?: RegExp; hint?: string }

/** The string at obj[key] (trimmed when `trim`), undefined when absent; RequestError when wrong. */
export function stringField(obj: Record<string, unknown>, key: string, rule: StringRule, where = ''): string | undefined {
  const v = obj[key];
  const name = where ? `${where}.${key}` : key;
  if (v === undefined || v === null || v === '') {
    if (rule.required) throw new RequestError(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new RequestError(`${name} must be a string`);
  if (v.length > rule.max) throw new RequestError(`${name} is longer than ${rule.max} characters`);
  if (rule.pattern && !rule.pattern.test(v)) throw new RequestError(`${name} ${rule.hint ?? 'has an invalid format'}`);
  return v;
}

export function enumField<T extends string>(obj: Record<string, unknown>, key: string, allowed: readonly T[], where = ''): T | undefined {
  const v = stringField(obj, key, { max: 64 }, where);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new RequestError(`${where ? `${where}.` : ''}${key} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** true/false, also as the strings an editor form may send; undefined when absent. */
export function booleanField(obj: Record<string, unknown>, key: string, where = ''): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new RequestError(`${where ? `${where}.` : ''}${key} must be true or false`);
}

/** A number or numeric text of at most 16 characters; undefined when absent. */
export function numericField(obj: Record<string, unknown>, key: string, where = ''): number | string | undefined {
  const v = obj[key];
  if (v === undefined || v === null || v === '') return undefined;
  if ((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 16 && /^\s*[0-9.eE+-]+\s*$/.test(v))) return v;
  throw new RequestError(`${where ? `${where}.` : ''}${key} must be a number`);
}

/** The object at obj[key] ({} when absent); RequestError when it is not a plain object. */
export function objectField(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new RequestError(`${key} must be an object`);
  return v as Record<string, unknown>;
}

/**
 * The request body as an object. Only JSON bodies are taken: a browser sends JSON across sites
 * only after a CORS preflight, which the editor refuses, so a foreign page cannot post a form here.
 */
export function jsonBody(req: { body?: unknown; headers?: Record<string, unknown> }): Record<string, unknown> {
  const type = String(req.headers?.['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new RequestError('send the request as application/json', 415);
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new RequestError('the request body must be a JSON object');
  return b as Record<string, unknown>;
}

/** Node-RED's scope semantics: "*", "read"/"write" for every type, or the exact "<type>.<read|write>". */
export function scopeAllows(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((s) => scopeAllows(s, permission));
  if (typeof scope !== 'string') return false;
  if (scope === '*' || scope === permission) return true;
  const action = permission.endsWith('.write') ? 'write' : permission.endsWith('.read') ? 'read' : '';
  return action !== '' && (scope === action || scope === `*.${action}`);
}

/**
 * Express middleware run after Node-RED's authentication: a signed-in user without `permission`
 * gets 403 with a message. Without adminAuth there is no user and Node-RED lets everyone in.
 */
export function requireScope(permission: string) {
  return (req: any, res: any, next: () => void): void => {
    if (req.user && !scopeAllows(req.authInfo?.scope, permission)) {
      res.status(403).json({ error: `this needs the ${permission} permission` });
      return;
    }
    next();
  };
}

/** Sends a refused or failed request as JSON `{ error }`: the message only, never a stack. */
export function sendError(res: any, err: unknown, status = 500): void {
  const code = err instanceof RequestError ? err.status : status;
  const message = err instanceof Error ? err.message : String(err);
  res.status(code).json({ error: message.split('\n')[0].slice(0, 500) });
}
