/** The summary table and the findings list, as text for a terminal and as JSON. */
import type { Finding, FuzzResult, Input } from './fuzz.js';

function inputJson(i: Input): string {
  const text = JSON.stringify(i, (_k, v) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 60)}…(${v.length} chars)` : v,
  );
  return text.length > 1200 ? `${text.slice(0, 1200)}…` : text;
}

function row(label: string, value: string | number): string {
  return `  ${label.padEnd(44)} ${value}`;
}

export function summaryTable(r: FuzzResult): string {
  const lines = [
    `Agora fuzz: seed ${r.seed} (${r.lanes} lane${r.lanes > 1 ? 's' : ''}), ${r.inputsSent} of ${r.inputsRequested} inputs in ${Math.round(r.durationMs / 1000)} s (stopped by ${r.stoppedBy})`,
    '',
    '  inputs sent, by kind',
    ...Object.entries(r.byKind)
      .sort()
      .map(([k, n]) => row(`    ${k}`, n)),
    row('crashes (a process died or stopped answering)', r.crashes),
    row('answers without {code, message}', r.answersWithoutCode),
    row('5xx answers / 1011 closes', r.serverErrors),
    row('state changes after refused input', r.stateChangesAfterRefusal),
    row('  refused batches compared', r.refusedBatchesCompared),
    row('  changes no single input reproduced', r.unattributedChanges),
    row('invariant violations', r.invariantViolations),
    row('expectations not met (hostile input accepted)', r.expectationFailures),
    row('slowest /health (ms)', r.slowestHealthMs),
    row('  while', r.slowestHealthWhile.slice(0, 70)),
    row('/health probes failed', r.healthFailures),
    row('cluster restarts', r.restarts),
    row('inputs the fuzzer failed to send', r.unsendable),
    row('routes in the table that answer 404', r.staleRoutes.length === 0 ? 'none' : r.staleRoutes.join(', ')),
    row('distinct findings', r.findings.length),
  ];
  return lines.join('\n');
}

export function findingsText(findings: Finding[]): string {
  return findings
    .map((f, i) => {
      const lines = [
        `${i + 1}. [${f.kind}] ${f.signature}  (seen ${f.count}x, first at input #${f.firstIndex} of seed ${f.seed})`,
      ];
      lines.push(`   observed: ${f.observed.slice(0, 400)}`);
      if (f.minimised) {
        lines.push(`   minimised (${f.shrinkReplays} replays): ${inputJson(f.minimised)}`);
        if (f.minimisedObserved && f.minimisedObserved !== f.observed)
          lines.push(`   then observed: ${f.minimisedObserved.slice(0, 300)}`);
      } else lines.push(`   input: ${inputJson(f.input)}`);
      return lines.join('\n');
    })
    .join('\n');
}

/** JSON with inputs shortened the same way (a 100,000-character string prints as its head and length). */
export function resultJson(r: FuzzResult): string {
  return JSON.stringify(
    r,
    (_k, v) => (typeof v === 'string' && v.length > 300 ? `${v.slice(0, 100)}…(${v.length} chars)` : v),
    2,
  );
}
