import { useState } from 'preact/hooks';
import { api, type Query, type Schemas } from '../api';
import { CHANNELS } from '../channels';
import { fmtDate, fmtNumber, lang, t } from '../i18n';
import { Card, ErrorNote, StatusBadge, errorText, useLoad } from '../ui';

type Status = NonNullable<NonNullable<Query<'/api/sms/history'>>['status']>;

// Every status the history filter takes, in the order of a message's life (a record, so a status
// the contract adds or drops fails the build here).
const STATUS_ORDER: Record<Status, number> = {
  scheduled: 0,
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  undelivered: 5,
  failed: 6,
  canceled: 7,
  unknown: 8,
  expired: 9,
};
const STATUSES = Object.keys(STATUS_ORDER) as Status[];

interface Filters {
  phone_number: string;
  status: string;
  message_type: string;
  from: string;
  to: string;
  campaign_id: string;
  channel: string;
}

const EMPTY: Filters = {
  phone_number: '',
  status: '',
  message_type: '',
  from: '',
  to: '',
  campaign_id: '',
  channel: '',
};

export function Messages({ id }: { id?: string }) {
  if (id) return <MessageDetail id={id} />;
  return <MessageList />;
}

function MessageList() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<Schemas['MessageSummaryDto'][] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function query(f: Filters, after: string | null): Query<'/api/sms/history'> {
    return {
      phone_number: f.phone_number || undefined,
      status: STATUSES.find((s) => s === f.status),
      message_type: f.message_type || undefined,
      from: f.from ? new Date(`${f.from}T00:00:00Z`).toISOString() : undefined,
      to: f.to ? new Date(`${f.to}T23:59:59Z`).toISOString() : undefined,
      campaign_id: f.campaign_id || undefined,
      channel: CHANNELS.find((c) => c === f.channel),
      limit: 25,
      cursor: after ?? undefined,
    };
  }

  async function load(after: string | null) {
    setBusy(true);
    setError(null);
    try {
      const page = await api.GET('/api/sms/history', { params: { query: query(draft, after) } });
      setItems((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  useLoad(() => load(null), []);

  const field = (k: keyof Filters) => ({
    value: draft[k],
    onInput: (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value }),
  });

  return (
    <Card title={t('messages')} id="messages">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <label>
          {t('phone')}
          <input type="search" name="phone" data-testid="filter-phone" {...field('phone_number')} />
        </label>
        <label>
          {t('status')}
          <select {...field('status')} data-testid="filter-status">
            <option value="">{t('any')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('type')}
          <input {...field('message_type')} />
        </label>
        <label>
          {t('from')}
          <input type="date" {...field('from')} />
        </label>
        <label>
          {t('to')}
          <input type="date" {...field('to')} />
        </label>
        <label>
          {t('campaign')}
          <input {...field('campaign_id')} placeholder="uuid" />
        </label>
        <label>
          {t('channel')}
          <select {...field('channel')} data-testid="filter-channel">
            <option value="">{t('any')}</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy} data-testid="search">
          {t('search')}
        </button>
      </form>
      <ErrorNote error={error} />
      {items === null ? (
        <p>{t('loading')}</p>
      ) : (
        <div class="scroll">
          <table class="table" data-testid="messages-table">
            <thead>
              <tr>
                <th>{t('created')}</th>
                <th>{t('phone')}</th>
                <th>{t('status')}</th>
                <th>{t('type')}</th>
                <th>{t('channel')}</th>
                <th>{t('body')}</th>
                <th>{t('segments')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.message_id} data-testid="message-row">
                  <td>
                    <a href={`#/messages/${encodeURIComponent(m.message_id)}`}>{fmtDate(m.created_at)}</a>
                  </td>
                  <td>{m.phone_number}</td>
                  <td>
                    <StatusBadge status={m.status} />
                    {m.test_mode && <TestModeBadge />}
                    {m.failure && <FailureReason failure={m.failure} />}
                  </td>
                  <td>{m.message_type}</td>
                  <td data-testid="message-channel">
                    <ChannelNotes m={m} />
                  </td>
                  <td class="body-cell">{m.body}</td>
                  <td class="num">
                    {m.segments} · {m.encoding}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {items.length === 0 && <p>{t('none')}</p>}
        </div>
      )}
      {cursor && (
        <button type="button" disabled={busy} onClick={() => void load(cursor)} data-testid="load-more">
          {t('loadMore')}
        </button>
      )}
    </Card>
  );
}

/** A test-mode message: handed to the sandbox only, never to a real phone, at no cost. */
function TestModeBadge() {
  return (
    <span class="badge badge-test" title={t('testModeHint')} data-testid="test-mode">
      {t('testMode')}
    </span>
  );
}

function MessageDetail({ id }: { id: string }) {
  const m = useLoad(() => api.GET('/api/sms/messages/{id}/status', { params: { path: { id } } }), [id]);
  return (
    <Card title={t('message')} id="message-detail">
      <p>
        <a href="#/messages">← {t('back')}</a>
      </p>
      <ErrorNote error={m.error} />
      {m.data && (
        <div>
          <dl class="facts">
            <dt>ID</dt>
            <dd data-testid="detail-id">{m.data.message_id}</dd>
            <dt>{t('status')}</dt>
            <dd>
              <StatusBadge status={m.data.status} />
              {m.data.test_mode && <TestModeBadge />}
            </dd>
            <dt>{t('channel')}</dt>
            <dd data-testid="detail-channel">
              <ChannelNotes m={m.data} />
            </dd>
            {m.data.media_urls && (
              <>
                <dt>{t('mediaUrls')}</dt>
                <dd data-testid="detail-media">
                  {m.data.media_urls.map((u) => (
                    <code key={u} class="sub">
                      {u}
                    </code>
                  ))}
                </dd>
              </>
            )}
            {m.data.content_sid && (
              <>
                <dt>{t('contentSid')}</dt>
                <dd>
                  <code data-testid="detail-content-sid">{m.data.content_sid}</code>
                </dd>
              </>
            )}
            <dt>{t('provider')}</dt>
            <dd>{m.data.provider ?? '—'}</dd>
            <dt>{t('sender')}</dt>
            <dd data-testid="detail-sender">{m.data.sender ?? '—'}</dd>
            <dt>{t('attempts')}</dt>
            <dd>{fmtNumber(m.data.attempts)}</dd>
            <dt>{t('segments')}</dt>
            <dd>
              {m.data.segments} · {m.data.encoding}
            </dd>
            <dt>{t('cost')}</dt>
            <dd>
              {m.data.cost ?? m.data.estimated_cost ?? '—'} {m.data.currency}
            </dd>
            {m.data.failure && (
              <>
                <dt>{t('reason')}</dt>
                <dd data-testid="detail-reason">
                  {m.data.failure.message[lang.value]} <code>{m.data.failure.reason}</code>
                </dd>
              </>
            )}
            {m.data.expires_at && (
              <>
                <dt>{t('validUntil')}</dt>
                <dd>
                  <time>{fmtDate(m.data.expires_at)}</time>
                </dd>
              </>
            )}
            {m.data.error_code && (
              <>
                <dt>{t('error')}</dt>
                <dd>
                  {m.data.error_code} {m.data.error_message}
                </dd>
              </>
            )}
          </dl>
          <h3>{t('timeline')}</h3>
          <ol class="timeline" data-testid="timeline">
            {m.data.events.map((e, i) => (
              <li key={i}>
                <StatusBadge status={e.status} /> <time>{fmtDate(e.at)}</time> <small>{e.source}</small>
                {e.route && <div class="route-note">{e.route}</div>}
              </li>
            ))}
          </ol>
        </div>
      )}
    </Card>
  );
}

type ChannelFields = Pick<
  Schemas['MessageSummaryDto'],
  'channel' | 'whatsapp_mode' | 'fallback_channel' | 'fallback_reason' | 'fallback_message_id' | 'fallback_of'
>;

const messageHref = (id: string) => `#/messages/${encodeURIComponent(id)}`;

/**
 * A message's channel; for WhatsApp the form that applied (session: free text, template: the
 * content SID) and its SMS fallback: armed, sent (a link to the SMS, and why) or refused; on a
 * fallback SMS, a link to the WhatsApp message it replaces (docs/sending.md, Channels).
 */
function ChannelNotes({ m }: { m: ChannelFields }) {
  return (
    <>
      {m.channel}
      {m.whatsapp_mode && ` · ${m.whatsapp_mode}`}
      {m.fallback_message_id ? (
        <a class="sub" href={messageHref(m.fallback_message_id)} data-testid="fallback-link">
          {t('fallbackSent')} ({m.fallback_reason})
        </a>
      ) : m.fallback_reason ? (
        <small class="sub" data-testid="fallback-reason">
          {t('fallbackNotSent')}: {m.fallback_reason}
        </small>
      ) : (
        m.fallback_channel && (
          <small class="sub" data-testid="fallback-armed">
            {t('fallbackArmed')}
          </small>
        )
      )}
      {m.fallback_of && (
        <a class="sub" href={messageHref(m.fallback_of)} data-testid="fallback-of">
          {t('fallbackOf')}
        </a>
      )}
    </>
  );
}

/** Why a message did not arrive, in the dashboard's language (the API gives both sentences). */
function FailureReason({ failure }: { failure: Schemas['FailureDto'] }) {
  return (
    <small class="failure-reason" data-testid="failure-reason" title={failure.reason}>
      {failure.message[lang.value]}
    </small>
  );
}
