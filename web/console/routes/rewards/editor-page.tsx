// A reward: new (rewards/new) or existing (rewards/:rewardId). An existing one has tabs: its
// details (the form), its scheduled prices, and by type its code pool (coupons) or its prizes,
// seeds and draws (lotteries); archiving it asks first. The tab is kept in the URL.
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Popconfirm, Space, Tabs } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import type { Locale } from '../../../shared/format.ts';
import { ErrorAlert, PageLoading } from '../../layout/feedback.tsx';
import { PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { CodePool } from './code-pool.tsx';
import { RewardStatusTag } from './list-page.tsx';
import { LotteryPanel } from './lottery-panel.tsx';
import { CATALOGUE_WRITE } from './permissions.ts';
import { PriceChanges } from './price-changes.tsx';
import { rewardKey, rewardQuery } from './queries.ts';
import { RewardForm } from './reward-form.tsx';
import { localized } from './types.ts';

function Back() {
  const { t } = useTranslation('rewards');
  const program = useProgram();
  return (
    <Link to={`/${program.id}/rewards`}>
      <Button type="link" icon={<ArrowLeftOutlined />} style={{ paddingInline: 0 }}>
        {t('editor.back')}
      </Button>
    </Link>
  );
}

export default function RewardEditorPage() {
  const { rewardId } = useParams();
  const program = useProgram();
  const { can } = useSession();
  const canWrite = can(program.id, CATALOGUE_WRITE);
  if (!rewardId) return <NewReward canWrite={canWrite} />;
  return <ExistingReward key={rewardId} rewardId={rewardId} canWrite={canWrite} />;
}

function NewReward({ canWrite }: { canWrite: boolean }) {
  const { t } = useTranslation('rewards');
  const program = useProgram();
  const navigate = useNavigate();
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Back />
      <PageHeader title={t('editor.newTitle')} description={t('editor.newDescription')} />
      {canWrite ? null : <Alert type="info" showIcon title={t('editor.readOnly')} />}
      <RewardForm canWrite={canWrite} onSaved={(reward) => navigate(`/${program.id}/rewards/${reward.id}`, { replace: true })} />
    </Space>
  );
}

function ExistingReward({ rewardId, canWrite }: { rewardId: string; canWrite: boolean }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [params, setParams] = useUrlFilters();
  const reward = useQuery(rewardQuery(rewardId));
  const archive = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/rewards/{rewardId}/archive', { params: { path: { rewardId }, header: { 'idempotency-key': newIdempotencyKey() } }, body: {} })),
    onSuccess: (archived) => {
      queryClient.setQueryData(rewardKey(rewardId), archived);
      void queryClient.invalidateQueries({ queryKey: ['rewards', program.id] });
      message.success(t('editor.archived'));
    },
  });

  if (reward.isPending) return <PageLoading />;
  if (reward.error) {
    return (
      <Space orientation="vertical" size="large" style={{ width: '100%' }}>
        <Back />
        <PageHeader title={t('editor.title')} />
        <ErrorAlert error={reward.error} onRetry={() => reward.refetch()} />
      </Space>
    );
  }
  const r = reward.data;
  const tabs = [
    { key: 'details', label: t('editor.tabs.details'), children: <RewardForm reward={r} canWrite={canWrite} onSaved={() => undefined} /> },
    { key: 'prices', label: t('editor.tabs.prices'), children: <PriceChanges reward={r} canWrite={canWrite} /> },
    ...(r.type === 'coupon' ? [{ key: 'codes', label: t('editor.tabs.codes'), children: <CodePool reward={r} canWrite={canWrite} /> }] : []),
    ...(r.type === 'lottery' ? [{ key: 'lottery', label: t('editor.tabs.lottery'), children: <LotteryPanel reward={r} canWrite={canWrite} /> }] : []),
  ];
  const tab = tabs.some((x) => x.key === params.get('tab')) ? params.get('tab')! : 'details';

  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Back />
      <PageHeader
        title={
          <Space wrap>
            {localized(r.name, locale)}
            <RewardStatusTag status={r.status} />
          </Space>
        }
        description={t(`typeHelp.${r.type}`)}
        extra={
          canWrite && r.status !== 'archived' ? (
            <Popconfirm title={t('editor.archiveConfirm')} okText={t('editor.archive')} cancelText={t('common:cancel')} onConfirm={() => archive.mutate()}>
              <Button danger loading={archive.isPending} data-testid="reward-archive">
                {t('editor.archive')}
              </Button>
            </Popconfirm>
          ) : null
        }
      />
      {archive.error ? <ErrorAlert error={archive.error} /> : null}
      <Tabs activeKey={tab} onChange={(key) => setParams({ tab: key === 'details' ? undefined : key })} items={tabs} destroyOnHidden />
    </Space>
  );
}
