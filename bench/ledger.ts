/**
 * `npm run bench:ledger -- migration|scale [flags]`: the partitioned ledger's benchmarks, each
 * on a scratch database of its own (bench/partition-migration.ts, bench/ledger-scale.ts). Not part
 * of `npm run bench`: seeding millions of rows takes minutes to an hour on a 2-core host.
 */
import { ledgerScale } from './ledger-scale';
import { partitionMigration } from './partition-migration';

const which = process.argv[2];
const run = which === 'migration' ? partitionMigration : which === 'scale' ? ledgerScale : null;
if (run === null) {
  console.error(
    'usage: npm run bench:ledger -- migration [--messages=1000000] | scale [--messages=10000000] [--samples=300] [--keep]',
  );
  process.exit(2);
}
run().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
