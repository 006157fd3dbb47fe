/**
 * What every benchmark returns: rows of one figure each, Switchboard next to baresip measured in
 * the same run, with their ratio (Switchboard / baresip; below 1 = Switchboard smaller/faster).
 * Figures are facts, never verdicts: a goal may be printed next to a figure, nothing is judged.
 */
import { ratio } from './stats';

export interface FigureRow {
  section: string;
  figure: string;
  unit: string;
  switchboard?: number;
  baresip?: number;
  ratio?: number;
  /** Target stated in the issue, printed as-is next to the figure. */
  goal?: string;
  /** Why a side has no figure, or what exactly was measured. */
  note?: string;
  /** What the two columns hold when not Switchboard and baresip (the A/B section: two builds); a section's first row names them. */
  columns?: readonly [string, string];
}

export function row(section: string, figure: string, unit: string, switchboard: number | undefined, baresip: number | undefined, extra: { goal?: string; note?: string } = {}): FigureRow {
  return { section, figure, unit, switchboard, baresip, ratio: ratio(switchboard, baresip), ...extra };
}

/** A section that could not be measured at all: one row saying why (the run goes on). */
export function failedSection(section: string, error: unknown): FigureRow {
  const message = error instanceof Error ? error.message : String(error);
  return { section, figure: 'NOT MEASURED', unit: '', note: `error: ${message.split('\n')[0]}` };
}
