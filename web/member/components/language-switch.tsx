// The language switch (zh-CN / English), remembered by shared/i18n.ts's setLocale.
import { useTranslation } from 'react-i18next';
import { LOCALES, setLocale } from '../../shared/i18n.ts';
import { Choice } from './choice.tsx';
import { useLocale } from './queries.ts';

export function LanguageSwitch() {
  const { t } = useTranslation();
  const locale = useLocale();
  return (
    <Choice
      label={t('common:language')}
      testId="language-switch"
      value={locale}
      options={LOCALES.map((l) => ({ label: t(`common:languages.${l}`), value: l }))}
      onChange={(next) => void setLocale(next)}
    />
  );
}
