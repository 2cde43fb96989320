import { type AwardLine, OrderRefunds, orderEvents, type PaidOrder, type RefundRequest } from '../../modules/events/index.ts';
import { creditReversals } from '../../modules/ledger/index.ts';
import { DomainError } from '../../shared/errors.ts';
import { fieldProblem, type Prepared, type Run, refuse } from './context.ts';
import { localDay } from './tiers.ts';

/**
 * Step 4, for refunds: what each refunded order earned, and so what each refund takes back (the
 * arithmetic is the events module's OrderRefunds). Reads the orders' paid events, their earlier
 * refunds and what was already reversed of their credits; refunds of the same order earlier in
 * the batch count too. A refund of an order never paid, or paid by another member, is 422
 * ORDER_NOT_FOUND; one asking more than is left of the order, 422 REFUND_EXCEEDS_ORDER.
 */
export async function planRefunds(run: Run, todo: Prepared[]): Promise<void> {
  const refunds = todo.filter((p) => p.input.type === 'order.refunded');
  if (refunds.length === 0) return;
  const orderIds = [...new Set(refunds.map((p) => String(p.data.order_id)))];
  const history = await orderEvents(run.db, run.program.id, orderIds);
  const entryIds = history.filter((e) => e.type === 'order.paid').flatMap((e) => e.result.awards.flatMap((a) => (a.entry_id ? [a.entry_id] : [])));
  const reversed = new Map((await creditReversals(run.db, entryIds)).map((l) => [l.entry_id, Number(l.reversal_total)]));
  const orders = new Map<string, OrderRefunds>();

  for (const p of refunds) {
    const orderId = String(p.data.order_id);
    const paid = history.find((e) => e.type === 'order.paid' && e.data.order_id === orderId);
    if (!paid) {
      refuse(
        run.outcomes,
        p,
        new DomainError('ORDER_NOT_FOUND', `No order.paid event for order ${orderId}; send it first`, { order_id: orderId }, [
          { path: `${p.prefix}/data/order_id`, location: 'body', message: 'has no order.paid event', rule: 'no_order' },
        ]),
      );
      continue;
    }
    if (paid.result.member_id !== p.member!.id) {
      // a refund reverses the points of the member who paid: naming another member is a mistake
      // (it would record the refund on one member and take the points of another)
      refuse(
        run.outcomes,
        p,
        new DomainError('ORDER_NOT_FOUND', `Order ${orderId} was not paid by member ${p.member!.id}`, { order_id: orderId, member_id: p.member!.id }, [
          { path: `${p.prefix}/data/order_id`, location: 'body', message: 'has no order.paid event of this member', rule: 'no_order_of_member' },
        ]),
      );
      continue;
    }
    let order = orders.get(orderId);
    if (!order) {
      const awards = paid.result.awards.map((a) => {
        const e = a.explanation as { items?: AwardLine[]; rule_name?: string };
        return { rule_id: a.rule_id, rule_version: a.rule_version, rule_name: e.rule_name, points: a.points, entry_id: a.entry_id, lines: e.items };
      });
      const earlier = history.filter((e) => e.type === 'order.refunded' && e.data.order_id === orderId).map((e) => e.data as RefundRequest);
      order = new OrderRefunds(paid.data as PaidOrder, awards, earlier, reversed);
      orders.set(orderId, order);
    }
    const left = order.refundable.amount;
    const plan = order.refund(p.data as RefundRequest);
    if (run.tiers && !('refused' in plan) && !('exceeds' in plan)) {
      // what the refund takes off the tier metric: on the day of the order (docs/tiers.md)
      const after = order.refundable.amount;
      p.tierRefund = { day: localDay(new Date(paid.result.occurred_at), run.program.time_zone), amount: left - after, full: left > 0 && after === 0 };
    }
    if ('refused' in plan) refuse(run.outcomes, p, fieldProblem(`${p.prefix}/data/items`, plan.refused));
    else if ('exceeds' in plan) {
      const { path, message, refundable } = plan.exceeds;
      refuse(
        run.outcomes,
        p,
        new DomainError('REFUND_EXCEEDS_ORDER', `Order ${orderId}: ${path} ${message}`, { order_id: orderId, refundable }, [
          { path: `${p.prefix}${path}`, location: 'body', message },
        ]),
      );
    } else p.reversals = plan.reversals;
  }
}
