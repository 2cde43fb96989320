import { type CompiledRule, compileRule, markNotInForce, type NotInForce, orderRules } from './rules.engine.ts';
import type { RuleSetRow } from './rules.repository.ts';
import type { RuleDefinition } from './rules.schemas.ts';

/**
 * A program's rules, compiled once, with the set in force at any instant. Versions change what
 * is in force only at a few instants (effective_from, archived_at); between two of them the
 * ordered list of compiled rules is the same, so it is computed once per interval.
 */
export class RuleSet {
  readonly #versions: { ruleId: string; from: number; until: number; rule: CompiledRule }[] = [];
  readonly #boundaries: number[];
  readonly #segments = new Map<number, CompiledRule[]>();
  /** Per trigger, the versions listening to it (each in force somewhere in [from, until)). */
  readonly #byTrigger = new Map<string, { ruleId: string; version: number; from: number; until: number }[]>();

  constructor(rows: RuleSetRow[]) {
    const byRule = new Map<string, typeof rows>();
    for (const row of rows) byRule.set(row.rule_id, [...(byRule.get(row.rule_id) ?? []), row]);
    const boundaries = new Set<number>();
    for (const [ruleId, versions] of byRule) {
      versions.sort((a, b) => a.version - b.version);
      const archived = versions[0]!.archived_at ? Date.parse(versions[0]!.archived_at) : Infinity;
      versions.forEach((v, i) => {
        const from = Date.parse(v.effective_from);
        const next = versions[i + 1];
        const until = Math.min(next ? Date.parse(next.effective_from) : Infinity, archived);
        if (from >= until) return;
        const rule = compileRule({ rule_id: ruleId, version: v.version, created_at: v.rule_created_at, definition: v.definition });
        this.#versions.push({ ruleId, from, until, rule });
        for (const t of v.definition.triggers) this.#byTrigger.set(t, [...(this.#byTrigger.get(t) ?? []), { ruleId, version: v.version, from, until }]);
        boundaries.add(from);
        if (until !== Infinity) boundaries.add(until);
      });
    }
    this.#boundaries = [...boundaries].sort((a, b) => a - b);
    const limited = new Set<string>();
    let lifetime = false;
    for (const row of rows) {
      if (!isLimited(row.definition)) continue;
      limited.add(row.rule_id);
      if (row.definition.caps?.per_member?.lifetime !== undefined || row.definition.frequency?.per === 'lifetime') lifetime = true;
    }
    this.limitedIds = limited;
    this.#lifetime = lifetime;
    // the latest version of each rule says whether its points count toward a tier's points metric
    const nonQualifying = new Set<string>();
    for (const [ruleId, versions] of byRule) if (versions[versions.length - 1]!.definition.qualifying === false) nonQualifying.add(ruleId);
    this.nonQualifyingIds = nonQualifying;
    this.usesSegments = rows.some((r) => r.definition.targeting?.segments !== undefined);
  }

  /** Some version targets segments: evaluation then needs the members' segments (events_prepare reads them). */
  readonly usesSegments: boolean;

  /** Rules whose latest version says `qualifying: false`: their points do not count toward a tier ladder's points metric (成长值). */
  readonly nonQualifyingIds: ReadonlySet<string>;

  get size(): number {
    return this.#versions.length;
  }

  /**
   * Rules with per-member caps or frequency limits in any version (even one superseded before it
   * took effect: the same test as rules.service's backfill): their awards are recorded in
   * rule_award, which evaluation reads for usage. Other rules' awards are only in the events' results.
   */
  readonly limitedIds: ReadonlySet<string>;
  readonly #lifetime: boolean;

  limited(): { ruleIds: string[]; lifetime: boolean } {
    return { ruleIds: [...this.limitedIds], lifetime: this.#lifetime };
  }

  /** The rules in force at `at`, in evaluation order. */
  at(at: Date): CompiledRule[] {
    const t = at.getTime();
    let lo = 0;
    let hi = this.#boundaries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#boundaries[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    let rules = this.#segments.get(lo);
    if (!rules) {
      rules = orderRules(this.#versions.filter((v) => v.from <= t && t < v.until).map((v) => v.rule));
      this.#segments.set(lo, markNotInForce(rules, this.#notInForce(lo)));
    }
    return rules;
  }

  /**
   * For the interval `lo` of at(): the rules listening to a type none of whose versions listening
   * to it is in force in the interval (evaluate asks only when no rule in force listens to the
   * event's type) — with the version taking effect for the type next, or when the rule last
   * stopped applying to it. Upcoming first (soonest first), then the ones that stopped (latest first).
   */
  #notInForce(lo: number): (type: string) => readonly NotInForce[] {
    const start = lo > 0 ? this.#boundaries[lo - 1]! : -Infinity;
    const end = lo < this.#boundaries.length ? this.#boundaries[lo]! : Infinity;
    const byType = new Map<string, NotInForce[]>();
    return (type) => {
      let out = byType.get(type);
      if (out) return out;
      const rules = new Map<string, { next?: { version: number; from: number }; until?: number }>();
      for (const v of this.#byTrigger.get(type) ?? []) {
        const r = rules.get(v.ruleId) ?? {};
        if (v.from >= end && (!r.next || v.from < r.next.from)) r.next = { version: v.version, from: v.from };
        if (v.until <= start && (r.until === undefined || v.until > r.until)) r.until = v.until;
        rules.set(v.ruleId, r);
      }
      out = [...rules]
        .filter(([, r]) => r.next || r.until !== undefined)
        .sort(([, a], [, b]) => (a.next && b.next ? a.next.from - b.next.from : a.next ? -1 : b.next ? 1 : b.until! - a.until!))
        .map(([ruleId, r]) => (r.next ? { ruleId, next: { version: r.next.version, from: new Date(r.next.from) } } : { ruleId, until: new Date(r.until!) }));
      if (byType.size > 1000) byType.clear();
      byType.set(type, out);
      return out;
    };
  }
}

/** Whether a rule definition limits what a member earns by what they earned before (caps per member, frequency). */
export function isLimited(definition: RuleDefinition): boolean {
  return definition.caps?.per_member !== undefined || definition.frequency !== undefined;
}
