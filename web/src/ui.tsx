import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import { t } from './i18n';

/** Loads once per `deps` change; errors other than 401 (handled by api) are shown. */
export function useLoad<T>(
  fn: () => Promise<T>,
  deps: unknown[],
): {
  data: T | null;
  error: string | null;
  reload: () => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    fn().then(
      (d) => live && setData(d),
      (e: unknown) => {
        if (live && !(e instanceof ApiError && e.status === 401)) setError(errorText(e));
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function ErrorNote({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {t('error')}: {error}
    </p>
  );
}

export function Card({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" data-testid={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Figure({ label, value, id }: { label: string; value: string; id: string }) {
  return (
    <div class="figure">
      <div class="figure-value" data-testid={id}>
        {value}
      </div>
      <div class="figure-label">{label}</div>
    </div>
  );
}

export function Progress({ value }: { value: number }) {
  const pct = Math.max(0, Math.min(100, Math.round(value * 100)));
  return (
    <progress class="progress" max={100} value={pct} aria-label={`${pct}%`}>
      {pct}%
    </progress>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z_]/g, '')}`}>{status}</span>;
}
