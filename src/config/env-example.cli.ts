import { writeFileSync } from 'node:fs';
import { renderEnvExample } from './env-example';
import { renderSettingsDoc } from './settings-doc';

writeFileSync('.env.sms.example', renderEnvExample());
writeFileSync('docs/settings.md', renderSettingsDoc());
console.log('wrote .env.sms.example and docs/settings.md');
