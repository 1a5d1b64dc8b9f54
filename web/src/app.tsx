import { useEffect, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler } from './api';
import {
  clearSession,
  isAdmin,
  loadSession,
  parseToken,
  saveSession,
  Session,
  takeTokenFromFragment,
} from './auth';
import { lang, setLang, t, type Key } from './i18n';
import { Alerts } from './pages/alerts';
import { Campaigns } from './pages/campaigns';
import { Inbound } from './pages/inbound';
import { Messages } from './pages/messages';
import { OptOuts } from './pages/opt-outs';
import { Overview } from './pages/overview';
import { Templates } from './pages/templates';

interface Route {
  path: string;
  label: Key;
  admin: boolean;
}

const ROUTES: Route[] = [
  { path: 'overview', label: 'overview', admin: false },
  { path: 'messages', label: 'messages', admin: false },
  { path: 'campaigns', label: 'campaigns', admin: true },
  { path: 'templates', label: 'templates', admin: false },
  { path: 'opt-outs', label: 'optOuts', admin: true },
  { path: 'inbound', label: 'inbound', admin: true },
  { path: 'alerts', label: 'alerts', admin: true },
];

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

  const admin = isAdmin(session);
  const visible = ROUTES.filter((r) => admin || !r.admin);
  const [page, arg] = route;
  const current = ROUTES.find((r) => r.path === page) ?? ROUTES[0];
  const allowed = admin || !current.admin;

  return (
    <div class="shell">
      <header class="top">
        <strong class="brand">{t('title')}</strong>
        <span class="who" data-testid="who">
          {session.userId} · tenant {session.tenantId}
          {session.roles.length ? ` · ${session.roles.join(', ')}` : ''}
        </span>
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
      <main class="main">
        {!allowed ? (
          <p class="error" role="alert" data-testid="not-allowed">
            {t('notAllowed')}
          </p>
        ) : (
          <Page path={current.path} arg={arg} session={session} />
        )}
      </main>
    </div>
  );
}

function Page({ path, arg, session }: { path: string; arg?: string; session: Session }) {
  switch (path) {
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
    case 'alerts':
      return <Alerts />;
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
      await api('/api/sms/me'); // a refused token lands back here through the 401 handler
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
