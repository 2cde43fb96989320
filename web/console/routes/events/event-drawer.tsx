// One event in full: its outcome, each award with its explanation, a refund's reversals, the rules
// that skipped and why, warnings, and the payload as sent (JSON).
import { useQuery } from '@tanstack/react-query';
import { Alert, Badge, Descriptions, Drawer, List, Space, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';

export type Outcome = 'awarded' | 'reversed' | 'no_points';
export const OUTCOMES: Outcome[] = ['awarded', 'reversed', 'no_points'];
const OUTCOME_BADGES: Record<Outcome, 'success' | 'error' | 'default'> = { awarded: 'success', reversed: 'error', no_points: 'default' };

/** Gained points in dark green, lost in dark red (both 4.5:1 or more on white; antd's success green is not). */
export function pointsColor(points: number): string | undefined {
  return points > 0 ? '#237804' : points < 0 ? '#a8071a' : undefined;
}

/** What the API's outcome is, from the event's net points (the same rule as listProgramEvents). */
export function outcomeOf(points: number): Outcome {
  return points > 0 ? 'awarded' : points < 0 ? 'reversed' : 'no_points';
}

export function OutcomeTag({ points, outcome }: { points: number; outcome?: Outcome }) {
  const { t } = useTranslation('events');
  const o = outcome ?? outcomeOf(points);
  return <Badge status={OUTCOME_BADGES[o]} text={t(`outcomes.${o}`)} />;
}

export function EventDrawer({ eventId, onClose }: { eventId: string | undefined; onClose: () => void }) {
  const { t, i18n } = useTranslation('events');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const event = useQuery({
    queryKey: ['event', eventId],
    queryFn: () => unwrap(api.GET('/v1/events/{eventId}', { params: { path: { eventId: eventId! } } })),
    enabled: eventId !== undefined,
    staleTime: 60_000,
  });
  const e = event.data;
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);
  const points = (n: number, signed = false) => formatPoints(n, locale, { signed });

  return (
    <Drawer open={eventId !== undefined} onClose={onClose} size="large" title={t('drawer.title')} data-testid="event-drawer" destroyOnHidden>
      {event.isPending ? <PageLoading /> : null}
      {event.error ? <ErrorAlert error={event.error} onRetry={() => event.refetch()} /> : null}
      {e ? (
        <Space orientation="vertical" size="large" style={{ width: '100%' }}>
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('columns.type')}>
              <Typography.Text code>{e.type}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('columns.outcome')}>
              <Space>
                <OutcomeTag points={e.points} />
                <Typography.Text strong>{points(e.points, true)}</Typography.Text>
              </Space>
            </Descriptions.Item>
            <Descriptions.Item label={t('columns.member')}>
              <Link to={`/${program.id}/members/${e.member_id}`}>{e.member_id}</Link>
            </Descriptions.Item>
            <Descriptions.Item label={t('columns.externalId')}>
              <Typography.Text copyable>{e.event_id}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('drawer.id')}>
              <Typography.Text copyable>{e.id}</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('columns.time')}>{when(e.occurred_at)}</Descriptions.Item>
            <Descriptions.Item label={t('drawer.processedAt')}>{when(e.processed_at)}</Descriptions.Item>
          </Descriptions>

          {e.warnings.map((w) => (
            <Alert key={`${w.code}${w.tier ?? ''}`} type="warning" showIcon title={w.message} description={t('drawer.warningCode', { code: w.code })} />
          ))}

          <section aria-labelledby="event-awards">
            <Typography.Title level={2} id="event-awards" style={{ fontSize: 16 }}>
              {t('drawer.awards')}
            </Typography.Title>
            <List
              size="small"
              bordered
              dataSource={e.awards}
              locale={{ emptyText: <Typography.Text type="secondary">{t('drawer.noAwards')}</Typography.Text> }}
              renderItem={(a) => (
                <List.Item extra={<Typography.Text strong>{points(a.points, true)}</Typography.Text>}>
                  <Space orientation="vertical" size={0}>
                    <Typography.Text strong>{String((a.explanation as { rule_name?: string }).rule_name ?? a.rule_id)}</Typography.Text>
                    <span>{a.text}</span>
                    <Typography.Text type="secondary">
                      {t('drawer.ruleVersion', { rule: a.rule_id, version: a.rule_version })}
                      {a.available_at ? ` · ${t('drawer.availableAt', { date: when(a.available_at) })}` : ''}
                    </Typography.Text>
                  </Space>
                </List.Item>
              )}
            />
          </section>

          {e.reversals.length > 0 ? (
            <section aria-labelledby="event-reversals">
              <Typography.Title level={2} id="event-reversals" style={{ fontSize: 16 }}>
                {t('drawer.reversals')}
              </Typography.Title>
              <List
                size="small"
                bordered
                dataSource={e.reversals}
                renderItem={(r) => (
                  <List.Item extra={<Typography.Text strong>{points(-r.points, true)}</Typography.Text>}>
                    <Space orientation="vertical" size={0}>
                      <Typography.Text strong>{r.rule_name ?? r.rule_id ?? r.entry_id}</Typography.Text>
                      <Typography.Text type="secondary">
                        {t('drawer.reversalParts', {
                          takenBack: points(r.taken_back),
                          expired: points(r.expired),
                          onHold: points(r.on_hold),
                          writtenOff: points(r.written_off),
                        })}
                      </Typography.Text>
                    </Space>
                  </List.Item>
                )}
              />
            </section>
          ) : null}

          <section aria-labelledby="event-skipped">
            <Typography.Title level={2} id="event-skipped" style={{ fontSize: 16 }}>
              {t('drawer.skipped')}
            </Typography.Title>
            <List
              size="small"
              bordered
              dataSource={e.skipped}
              locale={{ emptyText: <Typography.Text type="secondary">{t('drawer.noSkips')}</Typography.Text> }}
              renderItem={(s) => (
                <List.Item>
                  <Space orientation="vertical" size={0}>
                    <Typography.Text>
                      <Typography.Text code>{s.rule_id}</Typography.Text> {s.reason}
                    </Typography.Text>
                    {s.detail ? <Typography.Text type="secondary">{s.detail}</Typography.Text> : null}
                  </Space>
                </List.Item>
              )}
            />
          </section>

          <section aria-labelledby="event-payload">
            <Typography.Title level={2} id="event-payload" style={{ fontSize: 16 }}>
              {t('drawer.payload')}
            </Typography.Title>
            <pre
              data-testid="event-payload"
              style={{ background: '#f6f6f6', color: '#1f1f1f', padding: 12, borderRadius: 6, overflow: 'auto', maxHeight: 360, fontSize: 12 }}
            >
              {JSON.stringify(e.data, null, 2)}
            </pre>
          </section>
        </Space>
      ) : null}
    </Drawer>
  );
}
