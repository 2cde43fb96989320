import { fieldError } from '../../shared/errors.ts';
import { compileLogic } from '../rules/index.ts';
import { SEGMENT_VARIABLES } from './segments.schemas.ts';

/**
 * Segment evaluation: pure, no I/O. A condition is the rules engine's JSONLogic (same operators,
 * same compiler), over {member, stats}: the member's profile and the stats the repository
 * computes for a batch of members (MemberFacts). Only the variables of SEGMENT_VARIABLES may be
 * read, so that a misspelt one is a 400 when the segment is saved, not a segment that is silently
 * empty.
 */

/** What the condition sees of one member. */
export interface MemberFacts {
  member: {
    id: string;
    tier: string | null;
    tags: string[];
    attributes: Record<string, unknown>;
    status: string;
    birthday_month: number | null;
    days_since_joined: number;
  };
  stats: {
    points_balance: number;
    points_pending: number;
    points_expiring_30d: number;
    points_expiring_45d: number;
    points_expiring_90d: number;
    days_since_last_activity: number | null;
    days_since_last_order: number | null;
    orders_90d: number;
    orders_365d: number;
    spend_365d: number;
  };
}

const pointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

function knownVariable(name: string): boolean {
  if (Object.hasOwn(SEGMENT_VARIABLES, name)) return true;
  // member.attributes.<key>; the whole of member or stats is not a value a condition compares
  return /^member\.attributes\.[^.]+(\.[^.]+)*$/.test(name);
}

/** Every {"var": …} of the expression reads a known variable; else a 400 at its path. */
function checkVariables(expr: unknown, path: string): void {
  if (Array.isArray(expr)) {
    expr.forEach((e, i) => {
      checkVariables(e, `${path}/${i}`);
    });
    return;
  }
  if (expr === null || typeof expr !== 'object') return;
  const [op, arg] = Object.entries(expr)[0] ?? [];
  if (op === undefined) return;
  const at = `${path}/${pointer(op)}`;
  if (op === 'var') {
    const name = Array.isArray(arg) ? arg[0] : arg;
    const namePath = Array.isArray(arg) ? `${at}/0` : at;
    if (typeof name !== 'string') {
      // a computed name cannot be checked now; it is refused rather than evaluated blind
      if (name !== null && typeof name === 'object')
        throw fieldError(namePath, 'must name a variable as a string (computed names are not supported)', 'variable_name', {
          variables: Object.keys(SEGMENT_VARIABLES).join(', '),
        });
      throw fieldError(namePath, `must name a variable: one of ${Object.keys(SEGMENT_VARIABLES).join(', ')}`, 'variable_name', {
        variables: Object.keys(SEGMENT_VARIABLES).join(', '),
      });
    }
    if (!knownVariable(name))
      throw fieldError(namePath, `is not a segment variable (${name}); known: ${Object.keys(SEGMENT_VARIABLES).join(', ')}`, 'unknown_variable', {
        name: String(name),
        variables: Object.keys(SEGMENT_VARIABLES).join(', '),
      });
    if (Array.isArray(arg)) for (let i = 1; i < arg.length; i++) checkVariables(arg[i], `${at}/${i}`);
    return;
  }
  checkVariables(arg, at);
}

export type SegmentPredicate = (facts: MemberFacts) => boolean;

/** Validates and compiles a condition (400 VALIDATION_FAILED at `path` and below when it is wrong). */
export function compileSegmentCondition(condition: unknown, path = '/condition'): SegmentPredicate {
  if (typeof condition === 'boolean') return () => condition;
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition))
    throw fieldError(path, 'must be a JSONLogic operation or a boolean', 'jsonlogic');
  const fn = compileLogic(condition, path);
  checkVariables(condition, path);
  return (facts) => {
    try {
      return Boolean(fn(facts));
    } catch {
      // an operation that throws on this member's values (e.g. a string operator on null) does not hold
      return false;
    }
  };
}
