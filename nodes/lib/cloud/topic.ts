// Topic templates such as "plants/{plantId}/{lineId}/{sensorId}", compiled once at deploy time.

export const TOPIC_FIELDS = ['sensorId', 'plantId', 'lineId', 'measurement'] as const;
export type TopicField = (typeof TOPIC_FIELDS)[number];

/** Resolves a topic for one reading (or any object carrying the template's fields). */
export type TopicFn = (reading: any) => string;

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

// MQTT forbids wildcards in a publish topic; a reading must never turn into one.
function clean(v: unknown): string {
  if (v === undefined || v === null || v === '') return 'unknown';
  const s = String(v);
  return /[+#\0]/.test(s) ? s.replace(/[+#\0]/g, '_') : s;
}

/** Throws on an unknown placeholder so a typo shows at deploy, not as odd topics in the cloud. */
export function compileTopic(template: string): TopicFn {
  const literals: string[] = [];
  const fields: TopicField[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1] as TopicField;
    if (!(TOPIC_FIELDS as readonly string[]).includes(name)) {
      throw new Error(`unknown placeholder {${m[1]}} in topic template (use ${TOPIC_FIELDS.map((f) => `{${f}}`).join(', ')})`);
    }
    literals.push(template.slice(last, m.index));
    fields.push(name);
    last = (m.index as number) + m[0].length;
  }
  const tail = template.slice(last);
  if (fields.length === 0) return () => template;
  if (fields.length === 1) {
    const [head] = literals;
    const f = fields[0];
    return (r) => head + clean(r?.[f]) + tail;
  }
  return (r) => {
    let s = '';
    for (let i = 0; i < fields.length; i++) s += literals[i] + clean(r?.[fields[i]]);
    return s + tail;
  };
}

/** A template is usable as an MQTT publish topic only without wildcards. */
export function validateTemplate(template: string): string | null {
  if (/[+#]/.test(template)) return 'topic template must not contain MQTT wildcards (+ or #)';
  try {
    compileTopic(template);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}
