// One entry of the member's history: what kind, the signed change, when (in the program's time
// zone) and why: what it was for (a reward redeemed, a draw, an order paid at checkout) in the
// member's language, else the explanation exactly as the API gives it (150 = ¥100 × 1 pt/¥ × 1.5 (金卡)).
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatPoints, type Locale } from '../../shared/format.ts';
import { tierName } from '../../shared/tier-progress.ts';
import { type MyEntry, useLocale } from './queries.ts';

/** What the entry was for, in the member's language (兑换「保温杯」), when the API says; else its reason. */
function useWhy(entry: MyEntry, locale: Locale): string | null {
  const { t } = useTranslation('member');
  const a = entry.about;
  if (!a) return entry.reason;
  const name = a.reward_name ? tierName(a.reward_name, locale) : '';
  if (a.type === 'lottery_prize') return t('about.lottery_prize', { lottery: name, prize: a.prize_name ? tierName(a.prize_name, locale) : '' });
  if (a.type === 'checkout') return t('about.checkout', { order: a.order_reference ?? '' });
  return t(`about.${a.type}`, { name });
}

export function EntryItem({ entry, timeZone }: { entry: MyEntry; timeZone: string }) {
  const { t } = useTranslation('member');
  const locale = useLocale();
  // a hold moves points from available to held: its delta says what the member can spend
  const change = entry.delta !== 0 ? entry.delta : entry.held_delta;
  const why = useWhy(entry, locale);
  return (
    <li className="m-entry" data-testid="history-item" data-kind={entry.kind}>
      <div className="m-entry-main">
        <div className="m-entry-kind">{t(`kinds.${entry.kind}`)}</div>
        {why && <div className="m-entry-reason">{why}</div>}
        <time className="m-entry-time" dateTime={entry.occurred_at}>
          {formatDateTime(entry.occurred_at, timeZone, locale)}
        </time>
      </div>
      <div className={`m-entry-points ${change > 0 ? 'm-plus' : 'm-minus'}`}>{formatPoints(change, locale, { signed: true })}</div>
    </li>
  );
}
