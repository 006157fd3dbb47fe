/**
 * Output of `npm run bench`: a plain-text table per section on stdout (Switchboard | baresip |
 * ratio | goal or note; the A/B section: this tree | the other revision) and the same rows plus
 * raw measurements as JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FigureRow } from './figures';

function formatNumber(value: number | undefined, unit = ''): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  const abs = Math.abs(value);
  const digits = abs === 0 ? 0 : abs < 1 ? 3 : abs < 10 ? 2 : abs < 100 ? 1 : 0;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function formatTable(rows: readonly FigureRow[]): string {
  const sections: string[] = [];
  for (const r of rows) if (!sections.includes(r.section)) sections.push(r.section);
  const figureWidth = Math.max(24, ...rows.map((r) => r.figure.length));
  const cell = (s: string, width: number) => s.padStart(width);
  const lines: string[] = [];
  for (const section of sections) {
    const sectionRows = rows.filter((x) => x.section === section);
    const [ours, theirs] = sectionRows[0]?.columns ?? ['Switchboard', 'baresip'];
    lines.push('', `== ${section} ==`);
    lines.push(`${'figure'.padEnd(figureWidth)}  ${cell(ours, 13)}  ${cell(theirs, 13)}  ${cell('ratio', 7)}  goal / note`);
    for (const r of sectionRows) {
      const ratioText = r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}x`;
      const tail = [r.goal ? `goal ${r.goal}` : '', r.note ?? ''].filter(Boolean).join('; ');
      lines.push(
        `${r.figure.padEnd(figureWidth)}  ${cell(formatNumber(r.switchboard, r.unit), 13)}  ${cell(formatNumber(r.baresip, r.unit), 13)}  ${cell(ratioText, 7)}  ${tail}`,
      );
    }
  }
  lines.push('', 'ratio = Switchboard / baresip, or the first column over the second where a section names its own (below 1: the first lower). Figures only, no verdicts.');
  return lines.join('\n');
}

export function writeJson(path: string, content: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
}
