import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler } from './api';
import {
  actingTenant,
  clearSession,
  isAdmin,
  isSuperAdmin,
  loadSession,
  parseToken,
  saveSession,
  Session,
  setActingTenant,
  takeTokenFromFragment,
} from './auth';
import { lang, setLang, t, type Key } from './i18n';
import { Alerts } from './pages/alerts';
import { Campaigns } from './pages/campaigns';
import { Inbound } from './pages/inbound';
import { Messages } from './pages/messages';
import { OptOuts } from './pages/opt-outs';
import { Privacy } from './pages/privacy';
import { Overview } from './pages/overview';
import { Templates } from './pages/templates';
import { Tenants } from './pages/tenants';
import { Webhooks } from './pages/webhooks';
import { ProviderAccounts } from './pages/provider-accounts';

type Level = 'user' | 'admin' | 'super';

interface Route {
  path: string;
  label: Key;
  level: Level;
}

const ROUTES: Route[] = [
  { path: 'overview', label: 'overview', level: 'user' },
  { path: 'messages', label: 'messages', level: 'user' },
  { path: 'campaigns', label: 'campaigns', level: 'admin' },
  { path: 'templates', label: 'templates', level: 'user' },
  { path: 'opt-outs', label: 'optOuts', level: 'admin' },
  { path: 'inbound', label: 'inbound', level: 'admin' },
  { path: 'privacy', label: 'privacy', level: 'admin' },
  { path: 'alerts', label: 'alerts', level: 'admin' },
  { path: 'webhooks', label: 'webhooks', level: 'admin' },
  { path: 'provider-accounts', label: 'providerAccounts', level: 'admin' },
  { path: 'tenants', label: 'tenants', level: 'super' },
];

function mayOpen(s: Session, r: Route): boolean {
  if (r.level === 'super') return isSuperAdmin(s);
  if (r.level === 'admin') return isAdmin(s);
  return true;
}

/** `#/messages/<id>` → ['messages', '<id>']. */
function currentRoute(): string[] {
  const h = location.hash.replace(/^#\/?/, '');
  const parts = h.split('/').filter(Boolean).map(decodeURIComponent);
  return parts.length ? parts : ['overview'];
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const fromFragment = takeTokenFromFragment();
    if (fromFragment) {
      const s = parseToken(fromFragment);
      if (s) saveSession(s);
    }
    return loadSession();
  });
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<string[]>(currentRoute);
  const [actFor, setActFor] = useState<number | null>(actingTenant);
  useEffect(() => {
    const onHash = () => setRoute(currentRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(() => {
      setSession(null);
      setNotice(t('sessionEnded'));
    });
    document.documentElement.lang = lang.value;
  }, []);

  if (!session) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  }

  const visible = ROUTES.filter((r) => mayOpen(session, r));
  const [page, arg] = route;
  const current = ROUTES.find((r) => r.path === page) ?? ROUTES[0];
  const allowed = mayOpen(session, current);
  const switchTenant = (id: number | null) => {
    setActingTenant(id);
    setActFor(id);
    location.hash = '#/overview';
  };

  return (
    <div class="shell">
      <header class="top">
        <strong class="brand">{t('title')}</strong>
        <span class="who" data-testid="who">
          {session.userId} · tenant {session.tenantId}
          {session.roles.length ? ` · ${session.roles.join(', ')}` : ''}
        </span>
        {actFor !== null && (
          <span class="acting" data-testid="acting-for">
            {t('actingFor')} {actFor}{' '}
            <button type="button" class="link" onClick={() => switchTenant(null)}>
              {t('ownTenant')}
            </button>
          </span>
        )}
        <button
          type="button"
          class="link"
          onClick={() => setLang(lang.value === 'en' ? 'tr' : 'en')}
          data-testid="lang"
        >
          {t('language')}
        </button>
        <button
          type="button"
          class="link"
          onClick={() => {
            clearSession();
            setSession(null);
          }}
        >
          {t('signOut')}
        </button>
      </header>
      <nav class="nav" aria-label="pages">
        {visible.map((r) => (
          <a
            key={r.path}
            href={`#/${r.path}`}
            class={r.path === current.path ? 'active' : ''}
            data-testid={`nav-${r.path}`}
          >
            {t(r.label)}
          </a>
        ))}
      </nav>
      <main class="main" key={actFor ?? 0}>
        {!allowed ? (
          <p class="error" role="alert" data-testid="not-allowed">
            {t('notAllowed')}
          </p>
        ) : (
          <Page path={current.path} arg={arg} session={session} onSwitch={() => setActFor(actingTenant())} />
        )}
      </main>
    </div>
  );
}

function Page({
  path,
  arg,
  session,
  onSwitch,
}: {
  path: string;
  arg?: string;
  session: Session;
  onSwitch: () => void;
}) {
  switch (path) {
    case 'tenants':
      return (
        <Tenants
          onSwitch={() => {
            onSwitch();
            location.hash = '#/overview';
          }}
        />
      );
    case 'messages':
      return <Messages id={arg} />;
    case 'campaigns':
      return <Campaigns />;
    case 'templates':
      return <Templates session={session} />;
    case 'opt-outs':
      return <OptOuts />;
    case 'inbound':
      return <Inbound />;
    case 'privacy':
      return <Privacy />;
    case 'alerts':
      return <Alerts />;
    case 'webhooks':
      return <Webhooks />;
    case 'provider-accounts':
      return <ProviderAccounts tenantId={actingTenant() ?? session.tenantId} />;
    default:
      return <Overview session={session} />;
  }
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const s = parseToken(token);
    if (!s) {
      setError(t('tokenInvalid'));
      return;
    }
    saveSession(s);
    setBusy(true);
    try {
      await api.GET('/api/sms/me'); // a refused token lands back here through the 401 handler
      onSignedIn(s);
    } catch {
      /* the 401 handler shows why */
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="signin">
      <form class="card" onSubmit={submit} data-testid="signin">
        <h1>{t('title')}</h1>
        {notice && (
          <p class="notice" role="alert" data-testid="signin-notice">
            {notice}
          </p>
        )}
        <label for="token">{t('tokenLabel')}</label>
        <textarea
          id="token"
          rows={4}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          spellcheck={false}
        />
        <p class="help">{t('tokenHelp')}</p>
        {error && <p class="error">{error}</p>}
        <div class="row">
          <button type="submit" disabled={busy}>
            {t('signIn')}
          </button>
          <button type="button" class="link" onClick={() => setLang(lang.value === 'en' ? 'tr' : 'en')}>
            {t('language')}
          </button>
        </div>
      </form>
    </div>
  );
}
