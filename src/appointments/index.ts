export { AppointmentsModule } from './appointments.module';
export { AppointmentEntity } from './appointment.entity';
export { AppointmentsService } from './appointments.service';
export { formatAppointment } from './appointment-format';
