/**
 * `npm run migration:run | migration:revert | migration:generate -- <Name>` — the brief's
 * `flask db upgrade`. Uses the same data source as the app and DATABASE_URL from the environment.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { loadDotEnv } from '../config/dotenv';
import { createDataSource } from './data-source';
import { ensureDatabase, migrate } from './bootstrap';

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  loadDotEnv();
  const config = loadConfig(process.env);
  const url = config.get('DATABASE_URL');
  await ensureDatabase(url);
  switch (command) {
    case 'migration:run': {
      const applied = await migrate(url);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
      return;
    }
    case 'migration:revert': {
      const ds = await createDataSource(url, 2).initialize();
      await ds.undoLastMigration({ transaction: 'each' });
      await ds.destroy();
      console.log('reverted the last migration');
      return;
    }
    case 'migration:generate': {
      if (!name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name))
        throw new Error('usage: npm run migration:generate -- <PascalCaseName>');
      const ds = await createDataSource(url, 2).initialize();
      const sql = await ds.driver.createSchemaBuilder().log();
      await ds.destroy();
      if (sql.upQueries.length === 0) {
        console.log('entities and schema agree: nothing to generate');
        return;
      }
      const ts = Date.now();
      // Entities are read models: indexes, checks and foreign keys live only in the hand-written
      // migrations, so TypeORM's diff also proposes dropping them. It is written as comments to
      // copy from, never as code that runs.
      const comment = (qs: { query: string }[]) =>
        qs.map((x) => `    // ${x.query.replace(/\s+/g, ' ')}`).join('\n');
      const slug = name.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase());
      const file = join(process.cwd(), 'migrations', `${ts}-${slug}.ts`);
      writeFileSync(
        file,
        `import { MigrationInterface, QueryRunner } from 'typeorm';\n\n` +
          `/** TODO: write the change. TypeORM's entity/schema diff is below for reference: keep only what you mean. */\n` +
          `export class ${name}${ts} implements MigrationInterface {\n  name = '${name}${ts}';\n\n` +
          `  async up(_q: QueryRunner): Promise<void> {\n${comment(sql.upQueries)}\n  }\n\n` +
          `  async down(_q: QueryRunner): Promise<void> {\n${comment(sql.downQueries.reverse())}\n  }\n}\n`,
      );
      console.log(
        `wrote ${file}: write the change from the commented diff, then add it to migrations/index.ts`,
      );
      return;
    }
    default:
      throw new Error('usage: cli.js migration:run | migration:revert | migration:generate <Name>');
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
