import { ApiOutlined, IdcardOutlined, KeyOutlined, UserOutlined } from '@ant-design/icons';
import { Space, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import type { ActorType } from './operations.ts';

export interface Actor {
  type: ActorType;
  id: string | null;
  name: string | null;
}

const ICONS: Record<ActorType, typeof UserOutlined> = { console_user: UserOutlined, api_key: KeyOutlined, member: IdcardOutlined, system: ApiOutlined };

/** Who made a change: an icon for the kind of actor (named for screen readers) and the name. */
export function ActorLabel({ actor }: { actor: Actor }) {
  const { t } = useTranslation('audit-log');
  const Icon = ICONS[actor.type] ?? ApiOutlined;
  const kind = t(`actorTypes.${actor.type}`);
  return (
    <Space size={6}>
      <Tooltip title={kind}>
        <Icon aria-label={kind} role="img" />
      </Tooltip>
      <Typography.Text>{actor.name ?? (actor.type === 'system' ? t('actorTypes.system') : actor.id)}</Typography.Text>
    </Space>
  );
}
