// A coupon's code pool: codes left and issued, a CSV import with a progress bar (the upload is
// read as it arrives and the import's counts grow with every 1,000 lines: the page polls the
// import while the file goes up), its duplicates and invalid lines, generating N codes, the
// imports so far and the codes (issued ones masked).
import { UploadOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, App, Button, Card, Col, Form, Input, InputNumber, Progress, Row, Segmented, Space, Statistic, Table, Tag, Typography, Upload } from 'antd';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, newIdempotencyKey, unwrap } from '../../../shared/api.ts';
import { formatDateTime, formatPoints, type Locale } from '../../../shared/format.ts';
import { fieldMessage } from '../../../shared/i18n.ts';
import { cursorPages } from '../../../shared/pages.ts';
import { EmptyState, ErrorAlert } from '../../layout/feedback.tsx';
import { LoadMore } from '../../layout/page.tsx';
import { api, useSession } from '../../layout/session.tsx';
import { useProgram } from '../../layout/shell.tsx';
import { lineCount } from './model.ts';
import { rewardKey } from './queries.ts';
import type { CodeImport, Reward, RewardCodeList } from './types.ts';

function Title({ children }: { children: string }) {
  return (
    <Typography.Title level={2} style={{ fontSize: 16, margin: 0 }}>
      {children}
    </Typography.Title>
  );
}

/** What an import brought: imported, duplicates (in the file, in the pool) and invalid lines, with the first of each. */
export function ImportResult({ result }: { result: CodeImport }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const n = (v: number) => formatPoints(v, locale);
  const duplicates = result.duplicates.in_file + result.duplicates.in_pool;
  return (
    <Alert
      type={result.status === 'failed' ? 'error' : duplicates || result.invalid.count ? 'warning' : 'success'}
      showIcon
      data-testid="import-result"
      title={
        result.status === 'failed'
          ? t('codes.failed', { error: result.error ?? '' })
          : t('codes.result', {
              imported: n(result.imported),
              inFile: n(result.duplicates.in_file),
              inPool: n(result.duplicates.in_pool),
              invalid: n(result.invalid.count),
            })
      }
      description={
        duplicates || result.invalid.count ? (
          <Space orientation="vertical" size={2}>
            {result.duplicates.codes.length ? (
              <Typography.Text data-testid="import-duplicates">
                {t('codes.duplicateCodes')}
                {result.duplicates.codes.join('、')}
              </Typography.Text>
            ) : null}
            {result.invalid.lines.length ? (
              <Typography.Text>
                {t('codes.invalidLines')}
                {result.invalid.lines.map((l) => t('codes.invalidLine', { line: l.line, reason: t(`codes.reasons.${l.reason}`) })).join('；')}
              </Typography.Text>
            ) : null}
          </Space>
        ) : undefined
      }
    />
  );
}

export function CodePool({ reward, canWrite }: { reward: Reward; canWrite: boolean }) {
  const { t, i18n } = useTranslation('rewards');
  const locale = i18n.language as Locale;
  const program = useProgram();
  const { session } = useSession();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [status, setStatus] = useState<'all' | 'free' | 'issued'>('all');
  const [upload, setUpload] = useState<{ total: number; known: Set<string>; name: string }>();
  const [result, setResult] = useState<CodeImport>();
  const [importError, setImportError] = useState<unknown>();
  const [generateForm] = Form.useForm<{ count?: number; prefix?: string; length?: number }>();
  const generateKey = useRef<{ payload: string; key: string }>(undefined);
  const editable = canWrite && reward.status !== 'archived';

  const imports = useQuery({
    queryKey: ['reward', reward.id, 'imports'],
    queryFn: () => unwrap(api.GET('/v1/rewards/{rewardId}/codes/imports', { params: { path: { rewardId: reward.id }, query: { limit: 10 } } })),
    // while a file goes up, its import's counts grow: poll them for the progress bar
    refetchInterval: upload ? 400 : false,
  });
  const codes = useInfiniteQuery({
    queryKey: ['reward', reward.id, 'codes', status],
    ...cursorPages,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/rewards/{rewardId}/codes', {
          params: { path: { rewardId: reward.id }, query: { status: status === 'all' ? undefined : status, limit: 50, cursor: pageParam } },
        }),
      ) as Promise<RewardCodeList>,
  });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: rewardKey(reward.id) });
    void queryClient.invalidateQueries({ queryKey: ['rewards', program.id] });
  };
  const running = upload ? imports.data?.data.find((i) => !upload.known.has(i.id) && i.kind === 'csv' && i.status === 'running') : undefined;

  const sendFile = async (file: File) => {
    setResult(undefined);
    setImportError(undefined);
    const text = await file.text();
    const known = new Set((imports.data?.data ?? []).map((i) => i.id));
    setUpload({ total: lineCount(text), known, name: file.name });
    try {
      // the CSV goes as the body itself (text/csv): the typed client sends JSON only
      const response = await fetch(`/v1/rewards/${encodeURIComponent(reward.id)}/codes/imports`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'text/csv', 'idempotency-key': newIdempotencyKey(), 'x-csrf-token': session?.csrf_token ?? '' },
        body: file,
      });
      const body = await response.json().catch(() => undefined);
      if (!response.ok) throw new ApiError({ status: response.status, code: body?.code ?? `HTTP_${response.status}`, ...body });
      setResult(body as CodeImport);
      message.success(t('codes.imported'));
    } catch (error) {
      setImportError(error instanceof ApiError ? error : new ApiError({ status: 0, code: 'NETWORK_ERROR', detail: String(error) }));
    } finally {
      setUpload(undefined);
      refresh();
    }
  };

  const generate = useMutation({
    mutationFn: async () => {
      const v = await generateForm.validateFields();
      const body = { count: v.count ?? 1, ...(v.prefix ? { prefix: v.prefix } : {}), ...(v.length ? { length: v.length } : {}) };
      const payload = JSON.stringify(body);
      if (generateKey.current?.payload !== payload) generateKey.current = { payload, key: newIdempotencyKey() };
      return unwrap(
        api.POST('/v1/rewards/{rewardId}/codes/generate', {
          params: { path: { rewardId: reward.id }, header: { 'idempotency-key': generateKey.current.key } },
          body,
        }),
      );
    },
    onSuccess: (generated) => {
      generateKey.current = undefined;
      setResult(generated);
      message.success(t('codes.generated', { count: generated.imported }));
      refresh();
    },
    onError: (error) => {
      if (error instanceof ApiError) {
        generateForm.setFields(
          (error.problem.errors ?? [])
            .map((e) => ({ name: e.path.replace(/^\//, '') as 'count' | 'prefix' | 'length', errors: [fieldMessage(e, t)] }))
            .filter((f) => ['count', 'prefix', 'length'].includes(f.name)),
        );
      }
    },
  });

  const pool = codes.data?.pages[0];
  const percent = upload && running ? Math.min(100, Math.round((running.lines_read / Math.max(1, upload.total)) * 100)) : 0;

  return (
    <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
      <Card size="small" title={<Title>{t('codes.title')}</Title>}>
        <Row gutter={16}>
          <Col xs={12} md={6}>
            <Statistic title={t('fields.codesLeft')} value={formatPoints(reward.codes_left ?? 0, locale)} data-testid="pool-free" />
          </Col>
          <Col xs={12} md={6}>
            <Statistic title={t('codes.issued')} value={pool ? formatPoints(pool.issued, locale) : '—'} />
          </Col>
        </Row>
      </Card>

      {editable ? (
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={12}>
            <Card size="small" title={<Title>{t('codes.importTitle')}</Title>} style={{ height: '100%' }}>
              <Typography.Paragraph type="secondary">{t('codes.importHelp')}</Typography.Paragraph>
              <Upload
                accept=".csv,.txt,text/csv,text/plain"
                showUploadList={false}
                disabled={upload !== undefined}
                beforeUpload={(file) => {
                  void sendFile(file);
                  return false;
                }}
              >
                <Button icon={<UploadOutlined />} loading={upload !== undefined} data-testid="import-codes">
                  {t('codes.chooseFile')}
                </Button>
              </Upload>
              {upload ? (
                <div style={{ marginTop: 16 }} data-testid="import-progress">
                  <Typography.Text>
                    {t('codes.progress', {
                      name: upload.name,
                      read: formatPoints(running?.lines_read ?? 0, locale),
                      total: formatPoints(upload.total, locale),
                      imported: formatPoints(running?.imported ?? 0, locale),
                    })}
                  </Typography.Text>
                  <Progress percent={percent} status="active" aria-label={t('codes.importTitle')} />
                </div>
              ) : null}
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card size="small" title={<Title>{t('codes.generateTitle')}</Title>} style={{ height: '100%' }}>
              <Form form={generateForm} layout="vertical" onFinish={() => generate.mutate()} initialValues={{ length: 12 }}>
                <Row gutter={12}>
                  <Col xs={24} sm={8}>
                    <Form.Item name="count" label={t('codes.count')} rules={[{ required: true, message: t('editor.required') }]}>
                      <InputNumber min={1} max={100000} precision={0} style={{ width: '100%' }} data-testid="generate-count" />
                    </Form.Item>
                  </Col>
                  <Col xs={24} sm={8}>
                    <Form.Item name="prefix" label={t('codes.prefix')} normalize={(v: string) => v?.toUpperCase()}>
                      <Input maxLength={16} placeholder="CAFE-" />
                    </Form.Item>
                  </Col>
                  <Col xs={24} sm={8}>
                    <Form.Item name="length" label={t('codes.length')}>
                      <InputNumber min={6} max={32} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                </Row>
                <Typography.Paragraph type="secondary">{t('codes.generateHelp')}</Typography.Paragraph>
                <Button htmlType="submit" loading={generate.isPending} data-testid="generate-codes">
                  {t('codes.generate')}
                </Button>
              </Form>
            </Card>
          </Col>
        </Row>
      ) : null}
      {importError ? <ErrorAlert error={importError} /> : null}
      {generate.error && !(generate.error instanceof ApiError && generate.error.problem.errors?.length) ? <ErrorAlert error={generate.error} /> : null}
      {result ? <ImportResult result={result} /> : null}

      <Card size="small" title={<Title>{t('codes.importsTitle')}</Title>}>
        {imports.error ? <ErrorAlert error={imports.error} onRetry={() => imports.refetch()} /> : null}
        <Table<CodeImport>
          rowKey="id"
          size="small"
          loading={imports.isPending}
          dataSource={imports.data?.data ?? []}
          pagination={false}
          locale={{ emptyText: imports.isPending ? ' ' : <EmptyState description={t('codes.noImports')} /> }}
          columns={[
            { title: t('codes.startedAt'), key: 'at', render: (_, i) => formatDateTime(i.started_at, program.time_zone, locale) },
            { title: t('codes.kind'), key: 'kind', render: (_, i) => t(`codes.kinds.${i.kind}`) },
            { title: t('fields.status'), key: 'status', render: (_, i) => <Tag>{t(`codes.importStatus.${i.status}`)}</Tag> },
            { title: t('codes.importedCount'), key: 'imported', align: 'right', render: (_, i) => formatPoints(i.imported, locale) },
            {
              title: t('codes.duplicates'),
              key: 'duplicates',
              align: 'right',
              render: (_, i) => formatPoints(i.duplicates.in_file + i.duplicates.in_pool, locale),
            },
            { title: t('codes.invalid'), key: 'invalid', align: 'right', render: (_, i) => formatPoints(i.invalid.count, locale) },
          ]}
        />
      </Card>

      <Card
        size="small"
        title={<Title>{t('codes.listTitle')}</Title>}
        extra={
          <Segmented
            aria-label={t('fields.status')}
            value={status}
            onChange={(v) => setStatus(v as typeof status)}
            options={(['all', 'free', 'issued'] as const).map((s) => ({ value: s, label: t(`codes.statuses.${s}`) }))}
          />
        }
      >
        {codes.error ? <ErrorAlert error={codes.error} onRetry={() => codes.refetch()} /> : null}
        <Table<RewardCodeList['data'][number]>
          rowKey={(c) => `${c.code}:${c.redemption_id ?? ''}:${c.created_at}`}
          size="small"
          data-testid="codes-table"
          loading={codes.isPending}
          dataSource={codes.data?.pages.flatMap((p) => p.data) ?? []}
          pagination={false}
          locale={{ emptyText: codes.isPending ? ' ' : <EmptyState description={t('codes.empty')} /> }}
          columns={[
            { title: t('codes.code'), key: 'code', render: (_, c) => <Typography.Text code>{c.code}</Typography.Text> },
            {
              title: t('fields.status'),
              key: 'status',
              render: (_, c) => (c.status === 'issued' ? <Tag color="#531dab">{t('codes.statuses.issued')}</Tag> : <Tag>{t('codes.statuses.free')}</Tag>),
            },
            { title: t('codes.batch'), key: 'batch', render: (_, c) => c.batch ?? '—' },
            { title: t('codes.issuedAt'), key: 'issued', render: (_, c) => (c.issued_at ? formatDateTime(c.issued_at, program.time_zone, locale) : '—') },
          ]}
        />
        <LoadMore query={codes} style={{ marginTop: 12 }} />
      </Card>
    </Space>
  );
}
