"""Sessions of the CCS-C committees: creation, invitations with RSVP, reminders, moving and
cancelling, attendance (roll-call and check-in code) and the monthly rule."""
