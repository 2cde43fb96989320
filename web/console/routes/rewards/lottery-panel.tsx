// A lottery's prize table (code, names, weight and its chance among the prizes in stock, stock,
// points credited), its seeds (the SHA-256 published before the draws; rotating reveals the active
// seed and publishes the next) and its recent draws, each with a link to the public verification.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Card, Col, Form, Input, InputNumber, Modal, Popconfirm, Row, Space, Table, Tag, Typography } from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore } from '../../layout/page.tsx';
import { api } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { MemberCell } from './member-cell.tsx';
import { chanceOf } from './model.ts';
import { RewardSelect, useRewardNames } from './reward-select.tsx';
import { type Draw, localized, type Prize, type Reward, type Seed } from './types.ts';

interface PrizeForm {
  code: string;
  name_zh: string;
  name_en: string;
  weight?: number;
  unlimited_stock?: boolean;
  stock?: number | null;
  points?: number | null;
  prize_reward_id?: string | null;
}

const PRIZE_FIELDS: Record<string, keyof PrizeForm> = { code: 'code', weight: 'weight', stock: 'stock', points: 'points', prize_reward_id: 'prize_reward_id' };
/** The rewards a prize can issue (the API's rule: a coupon, goods, a service or an experience, not archived). */
const ISSUABLE = new Set(['coupon', 'physical', 'service', 'experience']);

function Title({ children }: { children: string }) {
  return (
    <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
      {children}
    </Typography.Title>
  );
}

function PrizeEditor({ reward, prize, open, onClose }: { reward: Reward; prize?: Prize; open: boolean; onClose: () => void }) {
  const { t, i18n } = useTranslation('rewards');
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<PrizeForm>();
  const key = useRef<{ payload: string; key: string }>(undefined);
  const save = useMutation({
    mutationFn: async () => {
      const v = await form.validateFields();
      const body = {
        name: { 'zh-CN': v.name_zh.trim(), en: v.name_en.trim() },
        weight: v.weight ?? 1,
        stock: v.stock ?? null,
        points: v.points ?? null,
        prize_reward_id: v.prize_reward_id ?? null,
      };
      const payload = JSON.stringify(body);
      if (key.current?.payload !== payload) key.current = { payload, key: newIdempotencyKey() };
      const header = { 'idempotency-key': key.current.key };
      if (prize) {
        return unwrap(
          api.PATCH('/v1/rewards/{rewardId}/lottery-prizes/{prizeId}', { params: { path: { rewardId: reward.id, prizeId: prize.id }, header }, body }),
        );
      }
      return unwrap(
        api.POST('/v1/rewards/{rewardId}/lottery-prizes', { params: { path: { rewardId: reward.id }, header }, body: { ...body, code: v.code.trim() } }),
      );
    },
    onSuccess: () => {
      key.current = undefined;
      message.success(prize ? t('lottery.prizeSaved') : t('lottery.prizeAdded'));
      void queryClient.invalidateQueries({ queryKey: ['reward', reward.id, 'prizes'] });
      onClose();
    },
    onError: (error) => {
      if (error instanceof ApiError) {
        form.setFields(
          (error.problem.errors ?? [])
            .map((e) => {
              const path = e.path.replace(/^\//, '');
              return {
                name: path.startsWith('name/en') ? 'name_en' : path.startsWith('name') ? 'name_zh' : PRIZE_FIELDS[path.split('/')[0] ?? ''],
                errors: [fieldMessage(e, t)],
              };
            })
            .filter((f): f is { name: keyof PrizeForm; errors: string[] } => f.name !== undefined),
        );
      }
    },
  });
  return (
    <Modal
      open={open}
      title={prize ? t('lottery.editPrize') : t('lottery.addPrize')}
      okText={t('common:save')}
      cancelText={t('common:cancel')}
      onOk={() => save.mutate()}
      confirmLoading={save.isPending}
      onCancel={onClose}
      destroyOnHidden
    >
      <Form<PrizeForm>
        form={form}
        layout="vertical"
        preserve={false}
        initialValues={
          prize
            ? {
                code: prize.code,
                name_zh: prize.name['zh-CN'],
                name_en: prize.name.en,
                weight: prize.weight,
                stock: prize.stock,
                points: prize.points,
                prize_reward_id: prize.prize_reward_id,
              }
            : { weight: 1 }
        }
      >
        <Form.Item name="code" label={t('lottery.prizeCode')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
          <Input maxLength={64} disabled={prize !== undefined} placeholder="p100" />
        </Form.Item>
        <Row gutter={12}>
          <Col span={12}>
            <Form.Item name="name_zh" label={t('fields.nameZh')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
              <Input maxLength={100} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item name="name_en" label={t('fields.nameEn')} rules={[{ required: true, whitespace: true, message: t('editor.required') }]}>
              <Input maxLength={100} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="weight" label={t('lottery.weight')} rules={[{ required: true, message: t('editor.required') }]}>
              <InputNumber min={1} max={1_000_000} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="stock" label={t('lottery.stock')} extra={t('lottery.stockHelp')}>
              <InputNumber min={0} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item name="points" label={t('lottery.points')} extra={t('lottery.pointsHelp')}>
              <InputNumber min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="prize_reward_id" label={t('lottery.prizeReward')} extra={t('lottery.prizeRewardHelp')}>
          <RewardSelect
            programId={reward.program_id}
            aria-label={t('lottery.prizeReward')}
            placeholder={t('lottery.noPrizeReward')}
            allow={(r) => ISSUABLE.has(r.type) && r.status !== 'archived'}
            label={(r) => `${localized(r.name, i18n.language)} · ${t(`types.${r.type}`)}`}
          />
        </Form.Item>
        {save.error && !(save.error instanceof ApiError && save.error.problem.errors?.length) ? <ErrorAlert error={save.error} /> : null}
      </Form>
    </Modal>
  );
}

export function LotteryPanel({ reward, canWrite }: { reward: Reward; canWrite: boolean }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [editing, setEditing] = useState<{ prize?: Prize } | undefined>();
  const editable = canWrite && reward.status !== 'archived';
  const when = (iso: string) => formatDateTime(iso, program.time_zone, locale);

  const prizes = useQuery({
    queryKey: ['reward', reward.id, 'prizes'],
    queryFn: () => unwrap(api.GET('/v1/rewards/{rewardId}/lottery-prizes', { params: { path: { rewardId: reward.id } } })),
  });
  const seeds = useInfiniteQuery({
    queryKey: ['reward', reward.id, 'seeds'],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/rewards/{rewardId}/lottery-seeds', { params: { path: { rewardId: reward.id }, query: { limit: 10, cursor: pageParam } } })),
  });
  const draws = useInfiniteQuery({
    queryKey: ['reward', reward.id, 'draws'],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/rewards/{rewardId}/lottery-draws', { params: { path: { rewardId: reward.id }, query: { limit: 20, cursor: pageParam } } })),
  });
  const archive = useMutation({
    mutationFn: (prize: Prize) =>
      unwrap(
        api.DELETE('/v1/rewards/{rewardId}/lottery-prizes/{prizeId}', {
          params: { path: { rewardId: reward.id, prizeId: prize.id }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: () => {
      message.success(t('lottery.prizeArchived'));
      void queryClient.invalidateQueries({ queryKey: ['reward', reward.id, 'prizes'] });
    },
  });
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/rewards/{rewardId}/lottery-seeds', {
          params: { path: { rewardId: reward.id }, header: { 'idempotency-key': newIdempotencyKey() } },
          body: {},
        }),
      ),
    onSuccess: (rotation) => {
      message.success(rotation.revealed ? t('lottery.rotated') : t('lottery.published'));
      void queryClient.invalidateQueries({ queryKey: ['reward', reward.id, 'seeds'] });
      void queryClient.invalidateQueries({ queryKey: ['reward', reward.id, 'draws'] });
    },
  });

  const table = (prizes.data?.data ?? []).filter((p) => p.archived_at == null);
  const issuedName = useRewardNames(table.flatMap((p) => (p.prize_reward_id ? [p.prize_reward_id] : [])));
  const seedRows = seeds.data?.pages.flatMap((p) => p.data) ?? [];
  const active = seedRows.find((s) => s.status === 'active');

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Card
        size="small"
        title={<Title>{t('lottery.prizesTitle')}</Title>}
        extra={
          editable ? (
            <Button onClick={() => setEditing({})} data-testid="prize-add">
              {t('lottery.addPrize')}
            </Button>
          ) : null
        }
      >
        <Typography.Paragraph type="secondary">{t('lottery.prizesHelp')}</Typography.Paragraph>
        {prizes.error ? <ErrorAlert error={prizes.error} onRetry={() => prizes.refetch()} /> : null}
        {archive.error ? <ErrorAlert error={archive.error} /> : null}
        <Table<Prize>
          rowKey="id"
          size="small"
          data-testid="prizes-table"
          loading={prizes.isPending}
          dataSource={table}
          pagination={false}
          locale={{ emptyText: prizes.isPending ? ' ' : <EmptyState description={t('lottery.noPrizes')} /> }}
          columns={[
            { title: t('lottery.prizeCode'), key: 'code', render: (_, p) => <Typography.Text code>{p.code}</Typography.Text> },
            { title: t('lottery.prize'), key: 'name', render: (_, p) => localized(p.name, locale) },
            { title: t('lottery.weight'), key: 'weight', align: 'right', render: (_, p) => formatPoints(p.weight, locale) },
            {
              title: t('lottery.chance'),
              key: 'chance',
              align: 'right',
              render: (_, p) => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }).format(chanceOf(p, table)),
            },
            {
              title: t('lottery.stock'),
              key: 'stock',
              align: 'right',
              render: (_, p) => (p.stock == null ? t('list.unlimited') : `${formatPoints(p.stock_left ?? 0, locale)} / ${formatPoints(p.stock, locale)}`),
            },
            { title: t('lottery.points'), key: 'points', align: 'right', render: (_, p) => (p.points == null ? '—' : formatPoints(p.points, locale)) },
            {
              title: t('lottery.prizeReward'),
              key: 'issues',
              render: (_, p) =>
                p.prize_reward_id ? (
                  <Link to={`/${program.id}/rewards/${p.prize_reward_id}`}>{issuedName(p.prize_reward_id)}</Link>
                ) : (
                  <Typography.Text type="secondary">—</Typography.Text>
                ),
            },
            {
              title: '',
              key: 'actions',
              width: 160,
              render: (_, p) =>
                editable ? (
                  <Space size={4}>
                    <Button size="small" onClick={() => setEditing({ prize: p })}>
                      {t('lottery.edit')}
                    </Button>
                    <Popconfirm
                      title={t('lottery.archiveConfirm')}
                      okText={t('lottery.archive')}
                      cancelText={t('common:cancel')}
                      onConfirm={() => archive.mutate(p)}
                    >
                      <Button size="small" danger>
                        {t('lottery.archive')}
                      </Button>
                    </Popconfirm>
                  </Space>
                ) : null,
            },
          ]}
        />
      </Card>
      {editing ? <PrizeEditor reward={reward} prize={editing.prize} open onClose={() => setEditing(undefined)} /> : null}

      <Card
        size="small"
        title={<Title>{t('lottery.seedsTitle')}</Title>}
        extra={
          editable ? (
            <Popconfirm
              title={active ? t('lottery.rotateConfirm') : t('lottery.publishConfirm')}
              okText={t('common:confirm')}
              cancelText={t('common:cancel')}
              onConfirm={() => rotate.mutate()}
            >
              <Button loading={rotate.isPending} data-testid="seed-rotate">
                {active ? t('lottery.rotate') : t('lottery.publish')}
              </Button>
            </Popconfirm>
          ) : null
        }
      >
        <Typography.Paragraph type="secondary">{t('lottery.seedsHelp')}</Typography.Paragraph>
        {seeds.error ? <ErrorAlert error={seeds.error} onRetry={() => seeds.refetch()} /> : null}
        {rotate.error ? <ErrorAlert error={rotate.error} /> : null}
        <Table<Seed>
          rowKey="id"
          size="small"
          data-testid="seeds-table"
          loading={seeds.isPending}
          dataSource={seedRows}
          pagination={false}
          scroll={{ x: 900 }}
          locale={{ emptyText: seeds.isPending ? ' ' : <EmptyState description={t('lottery.noSeeds')} /> }}
          columns={[
            {
              title: t('fields.status'),
              key: 'status',
              width: 90,
              render: (_, s) => (s.status === 'active' ? <Tag color="#237804">{t('lottery.seedActive')}</Tag> : <Tag>{t('lottery.seedRevealed')}</Tag>),
            },
            {
              title: t('lottery.seedHash'),
              key: 'hash',
              render: (_, s) => (
                <Typography.Text code copyable style={{ wordBreak: 'break-all' }}>
                  {s.seed_hash}
                </Typography.Text>
              ),
            },
            {
              title: t('lottery.seed'),
              key: 'seed',
              render: (_, s) =>
                s.seed ? (
                  <Typography.Text code copyable style={{ wordBreak: 'break-all' }} data-testid="seed-revealed">
                    {s.seed}
                  </Typography.Text>
                ) : (
                  <Typography.Text type="secondary">{t('lottery.seedHidden')}</Typography.Text>
                ),
            },
            { title: t('lottery.draws'), key: 'draws', align: 'right', width: 80, render: (_, s) => formatPoints(s.draws, locale) },
            { title: t('lottery.createdAt'), key: 'created', width: 170, render: (_, s) => when(s.created_at) },
          ]}
        />
        <LoadMore query={seeds} style={{ marginTop: 12 }} />
      </Card>

      <Card size="small" title={<Title>{t('lottery.drawsTitle')}</Title>}>
        {draws.error ? <ErrorAlert error={draws.error} onRetry={() => draws.refetch()} /> : null}
        <Table<Draw>
          rowKey="id"
          size="small"
          data-testid="draws-table"
          loading={draws.isPending}
          dataSource={draws.data?.pages.flatMap((p) => p.data) ?? []}
          pagination={false}
          scroll={{ x: 800 }}
          locale={{ emptyText: draws.isPending ? ' ' : <EmptyState description={t('lottery.noDraws')} /> }}
          columns={[
            { title: t('lottery.at'), key: 'at', render: (_, d) => when(d.at) },
            {
              title: t('orders.member'),
              key: 'member',
              render: (_, d) => <MemberCell programId={program.id} memberId={d.member_id} member={d.member} />,
            },
            { title: t('lottery.prize'), key: 'prize', render: (_, d) => localized(d.prize.name, locale) },
            { title: t('lottery.nonce'), key: 'nonce', align: 'right', render: (_, d) => d.nonce },
            {
              title: t('lottery.verification'),
              key: 'verify',
              render: (_, d) => (
                <a href={d.verify_path} target="_blank" rel="noreferrer" data-testid="draw-verify">
                  {d.seed_status === 'revealed' ? t('lottery.verify') : t('lottery.verifyLater')}
                </a>
              ),
            },
          ]}
        />
        <LoadMore query={draws} style={{ marginTop: 12 }} />
      </Card>
    </Space>
  );
}
