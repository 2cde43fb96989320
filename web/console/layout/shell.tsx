// The console's frame: sign-in guard, side navigation by area, the program switcher, language and
// the user menu. Program pages get their program (time zone, currency, rate) from useProgram().
import {
  ApiOutlined,
  AuditOutlined,
  ClusterOutlined,
  DashboardOutlined,
  FunctionOutlined,
  GiftOutlined,
  KeyOutlined,
  LogoutOutlined,
  SettingOutlined,
  ShoppingOutlined,
  TeamOutlined,
  TrophyOutlined,
  UnorderedListOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { App, Button, Dropdown, Layout, Menu, Select, Space, Typography } from 'antd';
import { createContext, Suspense, useContext, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { unwrap } from '../../shared/api.ts';
import type { Locale } from '../../shared/format.ts';
import { LOCALES, setLocale } from '../../shared/i18n.ts';
import { ErrorAlert, PageLoading } from './feedback.tsx';
import { api, SESSION_KEY, SessionProvider, useSession } from './session.tsx';

const LAST_PROGRAM_KEY = 'jifen.console.program';

/** Pages below need a signed-in user: otherwise to /sign-in, coming back afterwards. */
export function RequireSession() {
  return (
    <SessionProvider>
      <SessionGate />
    </SessionProvider>
  );
}

function SessionGate() {
  const { session, loading, error, refresh } = useSession();
  const location = useLocation();
  if (loading) return <PageLoading />;
  if (error) return <ErrorAlert error={error} onRetry={refresh} />;
  if (!session) return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <Outlet />;
}

export type Program = {
  id: string;
  name: string;
  time_zone: string;
  currency: string;
  point_name: string;
  point_name_en: string;
  redemption_rate: number;
  pending_days: number;
  [field: string]: unknown;
};

export function usePrograms() {
  return useQuery({
    queryKey: ['programs'],
    queryFn: () => unwrap(api.GET('/v1/programs', { params: { query: { limit: 100 } } })),
  });
}

const ProgramContext = createContext<Program | undefined>(undefined);

/** The program of the page (/console/<programId>/…). Only inside program pages. */
export function useProgram(): Program {
  const program = useContext(ProgramContext);
  if (!program) throw new Error('useProgram outside a program page');
  return program;
}

/** The program's id from the URL (for pages under /console/<programId>/…). */
export function useProgramId(): string {
  return useParams().programId!;
}

/** / → the last program used, else the first one the user can see. */
export function ProgramHome() {
  const { t } = useTranslation('layout');
  const programs = usePrograms();
  if (programs.isPending) return <PageLoading />;
  if (programs.error) return <ErrorAlert error={programs.error} onRetry={() => programs.refetch()} />;
  const list = programs.data.data;
  const last = window.localStorage.getItem(LAST_PROGRAM_KEY);
  const target = list.find((p) => p.id === last) ?? list[0];
  if (!target) return <Typography.Paragraph>{t('noPrograms')}</Typography.Paragraph>;
  return <Navigate to={`/${target.id}/dashboard`} replace />;
}

const AREAS = [
  { key: 'dashboard', icon: <DashboardOutlined /> },
  { key: 'members', icon: <TeamOutlined /> },
  { key: 'rules', icon: <FunctionOutlined /> },
  { key: 'segments', icon: <ClusterOutlined /> },
  { key: 'tiers', icon: <TrophyOutlined /> },
  { key: 'rewards', icon: <GiftOutlined /> },
  { key: 'redemptions', icon: <ShoppingOutlined /> },
  { key: 'events', icon: <UnorderedListOutlined /> },
  { key: 'audit-log', icon: <AuditOutlined /> },
  { key: 'api-keys', icon: <KeyOutlined />, permission: 'api_keys.manage' as const },
  { key: 'settings', icon: <SettingOutlined /> },
];

export function Shell() {
  const { t, i18n } = useTranslation('layout');
  const { programId } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const { session, can, roleIn } = useSession();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const programs = usePrograms();
  const program = programs.data?.data.find((p) => p.id === programId) as Program | undefined;

  useEffect(() => {
    if (programId && program) window.localStorage.setItem(LAST_PROGRAM_KEY, programId);
  }, [programId, program]);

  const area = programId ? location.pathname.split('/')[2] : location.pathname.split('/')[1];
  const signOut = async () => {
    try {
      await unwrap(api.DELETE('/v1/console/session'));
    } catch (error) {
      message.error(String((error as Error).message));
    }
    queryClient.setQueryData(SESSION_KEY, null);
    queryClient.clear();
    navigate('/sign-in', { replace: true });
  };
  const programItems = programId
    ? AREAS.filter((a) => !a.permission || can(programId, a.permission)).map((a) => ({ key: a.key, icon: a.icon, label: t(`nav.${a.key}`) }))
    : [];
  const deploymentItems =
    can(undefined, 'users.manage') || session?.access.some((a) => a.permissions.includes('users.manage'))
      ? [{ key: 'users', icon: <UserOutlined />, label: t('nav.users') }]
      : [];

  let content = <Outlet />;
  if (programId) {
    if (programs.isPending) content = <PageLoading />;
    else if (programs.error) content = <ErrorAlert error={programs.error} onRetry={() => programs.refetch()} />;
    else if (!program) content = <ErrorAlert error={new Error(t('programNotFound', { id: programId }))} />;
    else content = <ProgramContext.Provider value={program}>{content}</ProgramContext.Provider>;
  }

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light" width={208} style={{ borderRight: '1px solid #f0f0f0' }}>
        <div style={{ padding: '16px 20px', fontWeight: 600, fontSize: 18 }}>{t('brand')}</div>
        <nav aria-label={t('navLabel')}>
          <Menu
            mode="inline"
            selectedKeys={area ? [area] : []}
            items={[...programItems, ...deploymentItems]}
            onClick={({ key }) => navigate(key === 'users' ? '/users' : `/${programId}/${key}`)}
            style={{ borderInlineEnd: 'none' }}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{
            background: '#fff',
            padding: '0 24px',
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            borderBottom: '1px solid #f0f0f0',
          }}
        >
          <Space>
            <Select
              aria-label={t('program')}
              style={{ minWidth: 220 }}
              value={program?.id}
              placeholder={t('chooseProgram')}
              loading={programs.isPending}
              options={programs.data?.data.map((p) => ({ value: p.id, label: p.name }))}
              onChange={(id) => navigate(`/${id}/${AREAS.some((a) => a.key === area) ? area : 'dashboard'}`)}
            />
            {programId && roleIn(programId) ? <Typography.Text type="secondary">{t(`roles.${roleIn(programId)}`)}</Typography.Text> : null}
          </Space>
          <Space>
            <Select
              aria-label={t('common:language')}
              size="small"
              value={i18n.language as Locale}
              onChange={(locale: Locale) => setLocale(locale)}
              options={LOCALES.map((l) => ({ value: l, label: t(`common:languages.${l}`) }))}
              style={{ width: 110 }}
            />
            <Dropdown
              menu={{
                items: [
                  { key: 'account', icon: <ApiOutlined />, label: t('account') },
                  { key: 'sign-out', icon: <LogoutOutlined />, label: t('signOut') },
                ],
                onClick: ({ key }) => (key === 'sign-out' ? signOut() : navigate('/account')),
              }}
            >
              <Button type="text" icon={<UserOutlined />} data-testid="user-menu">
                {session?.user.name ?? session?.user.email}
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        {/* antd's Content is the page's <main> landmark: no second one inside it */}
        <Layout.Content style={{ padding: 24 }}>
          <Suspense fallback={<PageLoading />}>{content}</Suspense>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
