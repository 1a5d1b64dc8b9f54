export { AppointmentsModule } from './appointments.module';
export { AppointmentEntity } from './appointment.entity';
export { AppointmentsService } from './appointments.service';
export { formatAppointment } from './appointment-format';
// Its part in a number's data-subject requests (src/privacy).
export { appointmentsPersonalData } from './appointments-personal-data';
