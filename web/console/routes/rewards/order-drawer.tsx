// One redemption order in full: the member, the reward, units, points and cash, the codes issued,
// where it ships, carrier and tracking, and its history (every step with its time, who did it and
// what it carried). Its actions by status and type, each shown only to a role the API allows:
// ship (carrier and tracking number) and deliver (members.write), cancel and reject (ledger.write),
// which ask first and say the points and the stock come back.
import { type QueryClient, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Descriptions, Drawer, Form, Input, Modal, Space, Tag, Timeline, Typography } from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatMoney, formatPoints, type Locale, pointNameOf } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { type OrderAction as Action, actionsOf } from './model.ts';
import { FULFIL_WRITE, RESTORE_WRITE } from './permissions.ts';
import { localized, REDEMPTION_COLORS, type Redemption, type RedemptionStatus } from './types.ts';

/** The order's status; a physical order confirmed and not shipped yet says 待发货 (to ship). */
export function RedemptionStatusTag({ status, rewardType }: { status: RedemptionStatus; rewardType: Redemption['reward_type'] }) {
  const { t } = useTranslation('rewards');
  return (
    <Tag color={REDEMPTION_COLORS[status]} data-testid="order-status">
      {rewardType === 'physical' && status === 'confirmed' ? t('orderStatus.toShip') : t(`orderStatus.${status}`)}
    </Tag>
  );
}

/** A step's answer is the order without its history: shown at once, then read again with the new history row. */
function showStep(queryClient: QueryClient, id: string, answer: Redemption) {
  queryClient.setQueryData<Redemption>(['redemption', id], (old) => ({ ...answer, history: old?.history }));
  void queryClient.invalidateQueries({ queryKey: ['redemption', id] });
}

function ShipModal({ redemption, onClose }: { redemption: Redemption; onClose: () => void }) {
  const { t } = useTranslation('rewards');
  const queryClient = useQueryClient();
  const program = useProgram();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ carrier: string; tracking_number: string }>();
  const key = useRef<{ payload: string; key: string }>(undefined);
  const ship = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const body = { carrier: v.carrier.trim(), tracking_number: v.tracking_number.trim() };
      const payload = JSON.stringify(body);
      if (key.current?.payload !== payload) key.current = { payload, key: newIdempotencyKey() };
      return unwrap(
        api.POST('/v1/redemptions/{redemptionId}/ship', {
          params: { path: { redemptionId: redemption.id }, header: { 'idempotency-key': key.current.key } },
          body,
        }),
      );
    },
    onSuccess: (shipped) => {
      showStep(queryClient, redemption.id, shipped);
      void queryClient.invalidateQueries({ queryKey: ['redemptions', program.id] });
      message.success(t('orders.shippedMessage'));
      onClose();
    },
    onError: (error) => {
      if (error instanceof ApiError) {
        form.setFields(
          (error.problem.errors ?? [])
            .map((e) => ({ name: e.path.replace(/^\//, '') as 'carrier' | 'tracking_number', errors: [fieldMessage(e, t)] }))
            .filter((f) => f.name === 'carrier' || f.name === 'tracking_number'),
        );
      }
    },
  });
  return (
    <Modal
      open
      title={t('orders.shipTitle')}
      okText={t('orders.actions.ship')}
      cancelText={t('common:cancel')}
      onOk={() => ship.mutate()}
      confirmLoading={ship.isPending}
      onCancel={onClose}
      okButtonProps={{ 'data-testid': 'ship-submit' } as never}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={() => ship.mutate()}>
        <Form.Item name="carrier" label={t('orders.carrier')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
          <Input maxLength={64} placeholder={t('orders.carrierPlaceholder')} data-testid="carrier" />
        </Form.Item>
        <Form.Item name="tracking_number" label={t('orders.trackingNumber')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
          <Input maxLength={100} data-testid="tracking-number" />
        </Form.Item>
        {ship.error && !(ship.error instanceof ApiError && ship.error.problem.errors?.length) ? <ErrorAlert error={ship.error} /> : null}
      </Form>
    </Modal>
  );
}

function EndModal({ redemption, action, onClose }: { redemption: Redemption; action: 'cancel' | 'reject'; onClose: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const queryClient = useQueryClient();
  const program = useProgram();
  const { message } = App.useApp();
  const [reason, setReason] = useState('');
  const key = useRef(newIdempotencyKey());
  const end = useMutation({
    mutationFn: () => {
      const body = reason.trim() ? { reason: reason.trim() } : {};
      const params = { path: { redemptionId: redemption.id }, header: { 'idempotency-key': key.current } };
      return unwrap(
        action === 'cancel'
          ? api.POST('/v1/redemptions/{redemptionId}/cancel', { params, body })
          : api.POST('/v1/redemptions/{redemptionId}/reject', { params, body }),
      );
    },
    onSuccess: (ended) => {
      showStep(queryClient, redemption.id, ended);
      void queryClient.invalidateQueries({ queryKey: ['redemptions', program.id] });
      void queryClient.invalidateQueries({ queryKey: ['rewards', program.id] });
      message.success(t(`orders.endedMessage.${action}`, { points: formatPoints(ended.restored?.points ?? redemption.points, locale) }));
      onClose();
    },
  });
  return (
    <Modal
      open
      title={t(`orders.endTitle.${action}`)}
      okText={t(`orders.actions.${action}`)}
      okButtonProps={{ danger: true, 'data-testid': `${action}-submit` } as never}
      cancelText={t('common:back')}
      onOk={() => end.mutate()}
      confirmLoading={end.isPending}
      onCancel={onClose}
      destroyOnHidden
    >
      <Space orientation="vertical" style={{ width: '100%' }}>
        <Typography.Paragraph>
          {t('orders.endConfirm', {
            points: formatPoints(redemption.points, locale),
            pointName: pointNameOf(program, locale),
            quantity: redemption.quantity,
          })}
          {redemption.codes.length ? ` ${t('orders.codesStay')}` : ''}
        </Typography.Paragraph>
        <Input.TextArea
          aria-label={t('orders.reason')}
          placeholder={t('orders.reason')}
          maxLength={500}
          rows={2}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
        {end.error ? <ErrorAlert error={end.error} /> : null}
      </Space>
    </Modal>
  );
}

export function OrderDrawer({ redemptionId, onClose }: { redemptionId: string | undefined; onClose: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { can } = useSession();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [modal, setModal] = useState<'ship' | 'cancel' | 'reject'>();
  const order = useQuery({
    queryKey: ['redemption', redemptionId],
    queryFn: () => unwrap(api.GET('/v1/redemptions/{redemptionId}', { params: { path: { redemptionId: redemptionId! } } })),
    enabled: redemptionId !== undefined,
  });
  const deliver = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/redemptions/{redemptionId}/deliver', {
          params: { path: { redemptionId: redemptionId! }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: (delivered) => {
      showStep(queryClient, redemptionId!, delivered);
      void queryClient.invalidateQueries({ queryKey: ['redemptions', program.id] });
      message.success(t('orders.deliveredMessage'));
    },
  });
  const r = order.data;
  // the member's name and external id (the member page's own query: shared in the cache)
  const member = useQuery({
    queryKey: ['member', r?.member_id, 'profile'],
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}', { params: { path: { memberId: r!.member_id } } })),
    enabled: r !== undefined,
    staleTime: 60_000,
  });
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);
  const allowed = (a: Action) => (a === 'ship' || a === 'deliver' ? can(program.id, FULFIL_WRITE) : can(program.id, RESTORE_WRITE));
  const actions = r ? actionsOf(r).filter(allowed) : [];

  return (
    <Drawer
      open={redemptionId !== undefined}
      onClose={onClose}
      size="large"
      title={t('orders.drawerTitle')}
      data-testid="order-drawer"
      destroyOnHidden
      extra={
        actions.length ? (
          <Space wrap>
            {actions.includes('ship') ? (
              <Button type="primary" onClick={() => setModal('ship')} data-testid="ship-order">
                {t('orders.actions.ship')}
              </Button>
            ) : null}
            {actions.includes('deliver') ? (
              <Button onClick={() => deliver.mutate()} loading={deliver.isPending} data-testid="deliver-order">
                {t('orders.actions.deliver')}
              </Button>
            ) : null}
            {actions.includes('cancel') ? (
              <Button danger onClick={() => setModal('cancel')} data-testid="cancel-order">
                {t('orders.actions.cancel')}
              </Button>
            ) : null}
            {actions.includes('reject') ? (
              <Button danger onClick={() => setModal('reject')} data-testid="reject-order">
                {t('orders.actions.reject')}
              </Button>
            ) : null}
          </Space>
        ) : null
      }
    >
      {order.isPending && redemptionId ? <PageLoading /> : null}
      {order.error ? <ErrorAlert error={order.error} onRetry={() => order.refetch()} /> : null}
      {deliver.error ? <ErrorAlert error={deliver.error} /> : null}
      {r ? (
        <Space orientation="vertical" size="large" style={{ width: '100%' }}>
          <Descriptions column={1} size="small" bordered>
            <Descriptions.Item label={t('fields.status')}>
              <RedemptionStatusTag status={r.status} rewardType={r.reward_type} />
            </Descriptions.Item>
            <Descriptions.Item label={t('orders.reward')}>
              <Link to={`/${program.id}/rewards/${r.reward_id}`}>{localized(r.reward_name, locale)}</Link>{' '}
              <Typography.Text type="secondary">({t(`types.${r.reward_type}`)})</Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('orders.member')}>
              <Link to={`/${program.id}/members/${r.member_id}`} data-testid="order-member">
                {member.data ? `${member.data.name ?? member.data.external_id} (${member.data.external_id})` : r.member_id}
              </Link>
            </Descriptions.Item>
            <Descriptions.Item label={t('orders.quantity')}>{r.quantity}</Descriptions.Item>
            <Descriptions.Item label={t('orders.points')}>
              {formatPoints(r.points, locale)}
              {r.cash ? ` + ${formatMoney(r.cash, program.currency, locale)}` : ''}
            </Descriptions.Item>
            <Descriptions.Item label={t('orders.createdAt')}>{when(r.created_at)}</Descriptions.Item>
            {r.prize_of_draw_id ? (
              <Descriptions.Item label={t('orders.prizeOf')}>
                <a href={`/v1/lottery-draws/${r.prize_of_draw_id}/verification`} target="_blank" rel="noreferrer">
                  {t('orders.prizeOfDraw', { draw: r.prize_of_draw_id })}
                </a>
              </Descriptions.Item>
            ) : null}
            {r.codes.length ? (
              <Descriptions.Item label={t('orders.codes')}>
                <Space wrap>
                  {r.codes.map((c) => (
                    <Typography.Text code key={c}>
                      {c}
                    </Typography.Text>
                  ))}
                </Space>
              </Descriptions.Item>
            ) : null}
            {r.shipping ? (
              <Descriptions.Item label={t('orders.shipping')}>
                {[r.shipping.name, r.shipping.phone, r.shipping.address, r.shipping.postal_code].filter(Boolean).join('，')}
              </Descriptions.Item>
            ) : null}
            {r.carrier ? (
              <Descriptions.Item label={t('orders.tracking')}>
                <span data-testid="order-tracking">
                  {r.carrier} {r.tracking_number}
                </span>
              </Descriptions.Item>
            ) : null}
            {r.reason ? <Descriptions.Item label={t('orders.reason')}>{r.reason}</Descriptions.Item> : null}
          </Descriptions>
          <div>
            <Typography.Title level={2} style={{ fontSize: 16 }}>
              {t('orders.history')}
            </Typography.Title>
            <Timeline
              data-testid="order-history"
              items={(r.history ?? []).map((h) => ({
                key: h.id,
                children: (
                  <Space orientation="vertical" size={0}>
                    <Typography.Text strong>{t(`historyTypes.${h.type}`)}</Typography.Text>
                    <Typography.Text type="secondary">
                      {when(h.at)} · {h.actor}
                    </Typography.Text>
                    <HistoryPayload type={h.type} payload={h.payload} />
                  </Space>
                ),
              }))}
            />
          </div>
        </Space>
      ) : null}
      {r && modal === 'ship' ? <ShipModal redemption={r} onClose={() => setModal(undefined)} /> : null}
      {r && (modal === 'cancel' || modal === 'reject') ? <EndModal redemption={r} action={modal} onClose={() => setModal(undefined)} /> : null}
    </Drawer>
  );
}

/** The history step's figures people read: carrier and tracking, points back, stock back, the reason. */
function HistoryPayload({ type, payload }: { type: string; payload: Record<string, unknown> }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const parts: string[] = [];
  const num = (v: unknown) => (typeof v === 'number' ? formatPoints(v, locale) : undefined);
  if (type === 'redemption.shipped' && payload.carrier) parts.push(`${payload.carrier} ${payload.tracking_number ?? ''}`);
  if (type === 'redemption.confirmed' && num(payload.points)) parts.push(t('orders.historyPoints', { points: num(payload.points) }));
  const restored = payload.points_restored ?? (payload.restored as { points?: unknown } | undefined)?.points;
  if (num(restored)) parts.push(t('orders.historyRestored', { points: num(restored) }));
  if (num(payload.stock_restored)) parts.push(t('orders.historyStock', { stock: num(payload.stock_restored) }));
  if (typeof payload.reason === 'string' && payload.reason) parts.push(payload.reason);
  return parts.length ? <Typography.Text>{parts.join(' · ')}</Typography.Text> : null;
}
