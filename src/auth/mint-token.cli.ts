/** `npm run token -- --tenant 1 --user 1 --role admin [--role super_admin] [--ttl 3600]` prints a JWT. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/app-config';
import { signToken } from './tokens';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', default: '1' },
    user: { type: 'string', default: '1' },
    role: { type: 'string', multiple: true, default: [] },
    ttl: { type: 'string', default: '3600' },
  },
});
const config = loadConfig(process.env);
const tenant = Number(values.tenant);
if (!Number.isInteger(tenant) || tenant < 1) {
  console.error('--tenant must be a positive whole number');
  process.exit(1);
}
console.log(
  signToken({ sub: values.user, tenant_id: tenant, roles: values.role }, config.get('JWT_SECRET'), {
    expiresInSeconds: Number(values.ttl),
  }),
);
