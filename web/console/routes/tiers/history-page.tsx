// The program's tier changes (upgrades, downgrades, renewals, at-risk warnings, overrides), by type.
import { ArrowLeftOutlined } from '@ant-design/icons';
import { Card, Space } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { TierHistoryType } from '../../../shared/tiers.ts';
import { PageHeader, useUrlFilters } from '../../layout/page.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { TierHistoryTable } from './history.tsx';
import { useLadder } from './queries.ts';

export default function TierHistoryPage() {
  const { t } = useTranslation('tiers');
  const program = useProgram();
  const ladder = useLadder(program.id);
  const [params, setParams] = useUrlFilters();
  const type = (params.get('type') || undefined) as TierHistoryType | undefined;
  return (
    <Space orientation="vertical" size="large" style={{ width: '100%' }}>
      <Link to={`/${program.id}/tiers`}>
        <ArrowLeftOutlined /> {t('history.back')}
      </Link>
      <PageHeader title={t('history.title')} description={t('history.description')} />
      <Card>
        <TierHistoryTable type={type} onTypeChange={(v) => setParams({ type: v })} tiers={ladder.data?.tiers ?? []} />
      </Card>
    </Space>
  );
}
