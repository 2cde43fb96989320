import { payersOfOrders } from '../../modules/events/index.ts';
import { awardVersions, lockAwardVersions } from '../../modules/ledger/index.ts';
import { addMembers, findMemberProfiles } from '../../modules/members/index.ts';
import { DomainError } from '../../shared/errors.ts';
import type { EventMember } from './context.ts';
import { type Prepared, type Run, refuse } from './context.ts';

/**
 * Step 3: each event's member, by id or by external id. member.registered creates a member the
 * program does not know yet; an unknown member is 404, a closed one 422. On a contended retry
 * the members' accounts (and those of the members whose orders the batch refunds) are locked
 * first, in id order, and their award versions read under the lock.
 */
export async function findMembers(run: Run, todo: Prepared[]): Promise<Prepared[]> {
  const { program, now } = run;
  let members = run.snapshot.members;
  const registering = todo.filter(
    (p) => p.input.type === 'member.registered' && p.input.external_member_id && !members.some((m) => m.external_id === p.input.external_member_id),
  );
  if (registering.length > 0) {
    // in external id order: under lock (a retry), two batches registering the same members wait on
    // the unique key in one order
    registering.sort((a, b) => Buffer.compare(Buffer.from(a.input.external_member_id!), Buffer.from(b.input.external_member_id!)));
    // all of them at once, with their accounts (in a transaction: the first attempt runs outside one)
    await run.begin((tx) =>
      addMembers(
        tx,
        program.id,
        registering.map((p) => {
          const d = p.data as { name?: string; phone?: string; email?: string; birthday?: string };
          return { external_id: p.input.external_member_id!, name: d.name, phone: d.phone, email: d.email, birthday: d.birthday };
        }),
        now,
      ),
    );
    const ids = todo.flatMap((p) => (p.input.member_id ? [p.input.member_id] : []));
    const externalIds = todo.flatMap((p) => (p.input.external_member_id ? [p.input.external_member_id] : []));
    members = await loadMembers(run, ids, externalIds);
  }
  if (run.lockFirst && members.length > 0) members = await lockMembers(run, todo, members);

  const byId = new Map(members.map((m) => [m.id, m]));
  const byExternal = new Map(members.map((m) => [m.external_id, m]));
  return todo.filter((p) => {
    const m = p.input.member_id ? byId.get(p.input.member_id) : byExternal.get(p.input.external_member_id!);
    if (!m) {
      const field = p.input.member_id ? 'member_id' : 'external_member_id';
      refuse(
        run.outcomes,
        p,
        new DomainError('MEMBER_NOT_FOUND', `No member ${p.input.member_id ?? p.input.external_member_id} in ${program.id}`, {}, [
          { path: `${p.prefix}/${field}`, location: 'body', message: 'is not a member of the program', rule: 'not_in_program' },
        ]),
      );
      return false;
    }
    if (m.status === 'closed') {
      refuse(run.outcomes, p, new DomainError('MEMBER_CLOSED', `Member ${m.id} is closed`, { member_id: m.id }));
      return false;
    }
    p.member = m;
    return true;
  });
}

/** The members with these ids or external ids, with their accounts' award versions. */
async function loadMembers(run: Run, ids: string[], externalIds: string[]): Promise<EventMember[]> {
  const profiles = await findMemberProfiles(run.db, run.program.id, ids, externalIds);
  const versions = new Map(
    (
      await awardVersions(
        run.db,
        profiles.map((m) => m.id),
      )
    ).map((a) => [a.member_id, a.award_version]),
  );
  // every member has an account (made with it); one without would not be written for
  return profiles.flatMap((m) => (versions.has(m.id) ? [{ ...m, award_version: versions.get(m.id)! }] : []));
}

/**
 * Locks the accounts in id order (the order of every ledger write), with those of the members who
 * paid the orders the batch refunds (their credits are reversed in the same transaction), and
 * takes the award versions from under the lock.
 */
async function lockMembers(run: Run, todo: Prepared[], members: EventMember[]): Promise<EventMember[]> {
  const refunded = [...new Set(todo.filter((p) => p.input.type === 'order.refunded').map((p) => String(p.data.order_id)))];
  const payers = await payersOfOrders(run.db, run.program.id, refunded);
  const locked = new Map((await lockAwardVersions(run.db, [...new Set([...members.map((m) => m.id), ...payers])])).map((a) => [a.member_id, a.award_version]));
  return members.map((m) => ({ ...m, award_version: locked.get(m.id) ?? m.award_version }));
}
