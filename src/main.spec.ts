import { loadConfig } from './config/app-config';
import { startupSummary } from './main';

describe('start-up summary line', () => {
  it('names role, port, providers, database and docs, never the database password', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:s3cret@db.internal:6432/sms_prod',
      PORT: '8080',
    });
    const line = startupSummary(config, '/srv/.env');
    expect(line).toBe(
      'sms-service started: role all, port 8080, providers sandbox, database db.internal:6432/sms_prod, ' +
        'docs http://localhost:8080/api/docs, settings from .env',
    );
    expect(line).not.toContain('s3cret');
  });

  it('leaves out port and docs for a worker', () => {
    expect(startupSummary(loadConfig({ APP_ROLE: 'worker' }), null)).toBe(
      'sms-service started: role worker, providers sandbox, database 127.0.0.1:5432/sms',
    );
  });
});
