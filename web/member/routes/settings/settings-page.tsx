// Me: the member's profile as the program knows it, the language (remembered), and signing out.
import { Button, Dialog, List } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { formatDate } from '../../../shared/format.ts';
import { CardSkeleton, ErrorView } from '../../components/feedback.tsx';
import { LanguageSwitch } from '../../components/language-switch.tsx';
import { useLocale, useProfile } from '../../components/queries.ts';
import { session } from '../../session.ts';

export default function SettingsPage() {
  const { t } = useTranslation('settings');
  const locale = useLocale();
  const profile = useProfile();
  if (profile.error) return <ErrorView error={profile.error} onRetry={() => void profile.refetch()} />;
  if (!profile.data) return <CardSkeleton lines={5} />;
  const me = profile.data;
  const none = t('common:none');
  return (
    <>
      <List header={t('profile')} mode="card" className="m-list">
        <List.Item extra={me.name ?? none}>{t('name')}</List.Item>
        <List.Item extra={me.phone ?? none}>{t('phone')}</List.Item>
        <List.Item extra={me.tier ?? none}>{t('tier')}</List.Item>
        <List.Item extra={me.external_id}>{t('memberNo')}</List.Item>
        <List.Item extra={formatDate(me.created_at, me.program.time_zone, locale)}>{t('since')}</List.Item>
        <List.Item extra={me.program.name}>{t('program')}</List.Item>
      </List>
      <section className="m-card" aria-labelledby="language-title">
        <h2 id="language-title" className="m-h2">
          {t('common:language')}
        </h2>
        <LanguageSwitch />
      </section>
      <Button
        block
        color="danger"
        fill="outline"
        data-testid="sign-out"
        onClick={async () => {
          if (await Dialog.confirm({ content: t('signOutConfirm'), confirmText: t('signOut'), cancelText: t('common:cancel') })) session.signOut();
        }}
      >
        {t('signOut')}
      </Button>
    </>
  );
}
