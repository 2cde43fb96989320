// One entry of the member's history: what kind, the signed change, when (in the program's time
// zone) and why: the explanation exactly as the API gives it (150 = ¥100 × 1 pt/¥ × 1.5 (金卡)).
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatPoints } from '../../shared/format.ts';
import { type MyEntry, useLocale } from './queries.ts';

export function EntryItem({ entry, timeZone }: { entry: MyEntry; timeZone: string }) {
  const { t } = useTranslation('member');
  const locale = useLocale();
  // a hold moves points from available to held: its delta says what the member can spend
  const change = entry.delta !== 0 ? entry.delta : entry.held_delta;
  return (
    <li className="m-entry" data-testid="history-item" data-kind={entry.kind}>
      <div className="m-entry-main">
        <div className="m-entry-kind">{t(`kinds.${entry.kind}`)}</div>
        {entry.reason && <div className="m-entry-reason">{entry.reason}</div>}
        <time className="m-entry-time" dateTime={entry.occurred_at}>
          {formatDateTime(entry.occurred_at, timeZone, locale)}
        </time>
      </div>
      <div className={`m-entry-points ${change > 0 ? 'm-plus' : 'm-minus'}`}>{formatPoints(change, locale, { signed: true })}</div>
    </li>
  );
}
