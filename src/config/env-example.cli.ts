import { writeFileSync } from 'node:fs';
import { renderEnvExample } from './env-example';

writeFileSync('.env.sms.example', renderEnvExample());
console.log('wrote .env.sms.example');
