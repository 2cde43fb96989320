// A draw's verification (/m/lottery/draws/:drawId), from the public endpoint anyone may call: the
// seed's hash published before the draw, the client seed and nonce, the prize recorded; once the
// seed is revealed, the seed and whether the hash and the recomputed prize match. Loaded when
// first opened.
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import type { Locale } from '../../../shared/format.ts';
import { CardSkeleton, ErrorView } from '../../components/feedback.tsx';
import { useVerification } from './queries.ts';
import './rewards.css';

export default function VerificationPage() {
  const { drawId = '' } = useParams();
  const { t, i18n } = useTranslation('rewards');
  const locale: Locale = i18n.language === 'en' ? 'en' : 'zh-CN';
  const v = useVerification(drawId);
  if (v.error) return <ErrorView error={v.error} onRetry={() => void v.refetch()} />;
  if (!v.data) return <CardSkeleton lines={6} />;
  const d = v.data;
  const verdict = d.matches === null ? 'pending' : d.matches ? 'ok' : 'failed';
  const facts: [string, string][] = [
    [t('verify.seedHash'), d.seed_hash],
    [t('verify.clientSeed'), d.client_seed],
    [t('verify.nonce'), String(d.nonce)],
    [t('verify.weights'), d.weights.map((w) => `${w.code}:${w.weight}`).join(', ')],
    [t('verify.prize'), d.recorded.prize_code],
    [t('verify.hmac'), d.recorded.hmac],
  ];
  if (d.seed) facts.push([t('verify.seed'), d.seed]);
  if (d.recomputed)
    facts.push([t('verify.recomputed'), t('verify.recomputedValue', { prize: d.recomputed.prize_code, value: d.recomputed.value, total: d.recomputed.total })]);
  return (
    <>
      <section className={`m-card m-verdict m-verdict-${verdict}`} data-testid="verification" data-verdict={verdict} role="status">
        <h2 className="m-h2">{t(`verify.${verdict}`)}</h2>
        <p>{d.message[locale]}</p>
      </section>
      <section className="m-card">
        <dl className="m-facts m-facts-mono">
          {facts.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        <p className="m-muted">{t('verify.how')}</p>
        <a className="m-link" href={`/v1/lottery-draws/${encodeURIComponent(d.draw_id)}/verification`} target="_blank" rel="noreferrer">
          {t('verify.raw')}
        </a>
      </section>
    </>
  );
}
