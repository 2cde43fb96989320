import { Typography } from 'antd';
import { useTranslation } from 'react-i18next';

export default function Page() {
  const { t } = useTranslation('members');
  return <Typography.Title level={3}>{t('title')}</Typography.Title>;
}
