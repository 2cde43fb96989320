// The segments a member is in, as tags linking to each segment: a line on the member's page.
import { useQuery } from '@tanstack/react-query';
import { Space, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { unwrap } from '../../../shared/api.ts';
import { api } from '../../layout/session.tsx';
import { nameOf } from './types.ts';

export function MemberSegmentTags({ programId, memberId }: { programId: string; memberId: string }) {
  const { t, i18n } = useTranslation('segments');
  const segments = useQuery({
    queryKey: ['member-segments', memberId],
    queryFn: () => unwrap(api.GET('/v1/members/{memberId}/segments', { params: { path: { memberId } } })),
  });
  // nothing to say while loading or when it failed: the page's own data matters more
  if (!segments.data) return null;
  return (
    <Space size={4} wrap data-testid="member-segments" style={{ marginTop: 12 }}>
      <Typography.Text type="secondary">{t('memberTags')}</Typography.Text>
      {segments.data.data.length === 0
        ? '—'
        : segments.data.data.map((s) => (
            <Link key={s.segment_id} to={`/${programId}/segments/${s.segment_id}`}>
              <Tag color={s.built_in ? 'orange' : 'blue'}>{nameOf(s, i18n.language)}</Tag>
            </Link>
          ))}
    </Space>
  );
}
