import { AppointmentsModule, AppointmentsService } from '../../../src/appointments';
import type { AppointmentInput } from '../../../src/appointments/appointments.service';
import { PhoneModule } from '../../../src/phone';
import { freshTenantId } from '../factories';
import { createMediumContext, MediumContext, principal } from '../medium-context';

/** An appointment is read, changed or deleted by its creator or a tenant admin only. */
describe('AppointmentsService: owner rule', () => {
  let ctx: MediumContext;
  let appointments: AppointmentsService;
  beforeAll(async () => {
    ctx = await createMediumContext({ imports: [AppointmentsModule, PhoneModule] });
    appointments = ctx.get(AppointmentsService);
  });
  afterAll(() => ctx.close());

  const input: AppointmentInput = {
    userId: '456',
    phoneNumber: '+905321234567',
    startsAt: new Date('2026-12-15T11:00:00Z'),
    trainerName: 'John Doe',
    location: 'Training Room A',
    language: 'tr',
    timezone: 'Europe/Istanbul',
  };
  const notFound = { code: 'not_found' };

  function people() {
    const tenant = freshTenantId();
    return {
      admin: principal(tenant, 'admin-1', ['admin']),
      alice: principal(tenant, 'alice'),
      bob: principal(tenant, 'bob'),
    };
  }

  it("refuses a plain user deleting an admin's appointment (not found) and keeps it", async () => {
    const { admin, bob } = people();
    expect((await appointments.upsert(admin, 'a2', input)).created).toBe(true);
    await expect(appointments.remove(bob, 'a2')).rejects.toMatchObject(notFound);
    await appointments.read(admin, 'a2');
  });

  it("hides another user's appointment from a plain user exactly like a missing one", async () => {
    const { alice, bob } = people();
    await appointments.upsert(alice, 'a3', input);
    const theirs = (await appointments.read(bob, 'a3').catch((e: unknown) => e)) as Error;
    const missing = (await appointments.read(bob, 'no-such').catch((e: unknown) => e)) as Error;
    expect(theirs).toMatchObject(notFound);
    expect(missing).toMatchObject(notFound);
    expect(theirs.message.replace('a3', 'ID')).toBe(missing.message.replace('no-such', 'ID'));
    await expect(appointments.remove(bob, 'a3')).rejects.toMatchObject(notFound);
    await expect(appointments.upsert(bob, 'a3', { ...input, location: 'elsewhere' })).rejects.toMatchObject(
      notFound,
    );
    expect((await appointments.read(alice, 'a3')).location).toBe('Training Room A');
  });

  it('lets the creator read, change and delete their own appointment', async () => {
    const { alice } = people();
    expect((await appointments.upsert(alice, 'a4', input)).created).toBe(true);
    expect((await appointments.upsert(alice, 'a4', { ...input, phoneNumber: '+12025550123' })).created).toBe(
      false,
    );
    expect((await appointments.read(alice, 'a4')).phoneNumber).toBe('+12025550123');
    await appointments.remove(alice, 'a4');
    await expect(appointments.read(alice, 'a4')).rejects.toMatchObject(notFound);
  });

  it("lets a tenant admin change and delete a plain user's appointment; the creator still owns it", async () => {
    const { admin, alice } = people();
    await appointments.upsert(alice, 'a5', input);
    expect((await appointments.upsert(admin, 'a5', { ...input, location: 'Room B' })).created).toBe(false);
    expect((await appointments.read(alice, 'a5')).location).toBe('Room B');
    await appointments.remove(admin, 'a5');
    await expect(appointments.read(alice, 'a5')).rejects.toMatchObject(notFound);
  });

  it('lets a plain user re-create an id after its owner deleted it, and then own it', async () => {
    const { alice, bob } = people();
    await appointments.upsert(alice, 'a6', input);
    await appointments.remove(alice, 'a6');
    expect((await appointments.upsert(bob, 'a6', input)).created).toBe(true);
    await expect(appointments.read(alice, 'a6')).rejects.toMatchObject(notFound);
    await appointments.read(bob, 'a6');
  });
});
