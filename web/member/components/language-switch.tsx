// The language switch (zh-CN / English), remembered by shared/i18n.ts's setLocale.
import { Selector } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import type { Locale } from '../../shared/format.ts';
import { LOCALES, setLocale } from '../../shared/i18n.ts';
import { useLocale } from './queries.ts';

export function LanguageSwitch() {
  const { t } = useTranslation();
  const locale = useLocale();
  return (
    <fieldset className="m-fieldset" data-testid="language-switch">
      <legend className="m-sr-only">{t('common:language')}</legend>
      <Selector<Locale>
        showCheckMark={false}
        value={[locale]}
        options={LOCALES.map((l) => ({ label: t(`common:languages.${l}`), value: l }))}
        onChange={(values) => {
          const next = values[0];
          if (next && next !== locale) void setLocale(next);
        }}
      />
    </fieldset>
  );
}
