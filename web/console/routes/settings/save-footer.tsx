// The foot of a settings form: the API's refusal (not the form's own field validation, which the
// fields show), then Save for those who may change the settings, or a line saying they may not.
import { Button, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { ErrorAlert } from '../../layout/feedback.tsx';

/** Whether an error is antd's form validation (shown at the fields), not a request's. */
export function isFieldValidation(error: unknown): boolean {
  return !!error && typeof error === 'object' && 'errorFields' in error;
}

export function SaveFooter({
  error,
  canWrite,
  saving,
  onSave,
  testId,
}: {
  error: unknown;
  canWrite: boolean;
  saving: boolean;
  onSave: () => void;
  testId: string;
}) {
  const { t } = useTranslation('settings');
  return (
    <>
      {error && !isFieldValidation(error) ? (
        <div style={{ marginBottom: 16 }}>
          <ErrorAlert error={error} />
        </div>
      ) : null}
      {canWrite ? (
        <Button type="primary" data-testid={testId} loading={saving} onClick={onSave}>
          {t('common:save')}
        </Button>
      ) : (
        <Typography.Text type="secondary">{t('readOnly')}</Typography.Text>
      )}
    </>
  );
}
