// Metric names a PromQL expression reads, found with Prometheus's own PromQL grammar (lezer-promql),
// after Grafana's interval variables are replaced by a duration as Grafana does before it queries.
import { parser } from '@prometheus-io/lezer-promql';

const GRAFANA_DURATIONS = /\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}/g;

export function promqlMetricNames(expr: string): string[] {
  const text = expr.replace(GRAFANA_DURATIONS, '5m');
  const tree = parser.parse(text);
  const names: string[] = [];
  const c = tree.cursor();
  do {
    if (c.type.isError) throw new Error(`PromQL syntax error at ${c.from} in: ${text}`);
    if (c.name === 'Identifier' && c.node.parent?.name === 'VectorSelector') names.push(text.slice(c.from, c.to));
    if (c.name === 'UnquotedLabelMatcher' || c.name === 'QuotedLabelMatcher') {
      const m = /^__name__\s*=\s*"([^"]+)"$/.exec(text.slice(c.from, c.to));
      if (m) names.push(m[1]);
    }
  } while (c.next());
  return names;
}
