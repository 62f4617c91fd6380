"""Restoring from the conflict log (SPEC §4, Changes and conflicts).

The store keeps each conflict's losing value in its merge-field form
(:meth:`Store.log_conflict`); writing it back into the appointment needs the
sync's field mapping, so restoring lives here, above the store.
"""

from __future__ import annotations

from calsync_desktop.model import Appointment
from calsync_desktop.store import Store
from calsync_desktop.sync import mapping as m
from calsync_desktop.sync.snapshot import Fields


def restore_conflict(store: Store, conflict_id: int) -> Appointment:
    """Write the losing value of a conflict back into its appointment.

    The restore is a local edit like any other: the next sync pushes it.
    Raises KeyError when the conflict or its appointment no longer exists.
    """
    with store.transaction():
        appointment_id, field_name, value = store.conflict_lost_value(conflict_id)
        appointment = store.get_appointment(appointment_id)
        if appointment is None:
            raise KeyError(appointment_id)
        fields = Fields().with_values({field_name: value})
        restored = store.update_appointment(m.apply_fields(appointment, fields, [field_name]))
        store.mark_conflict_restored(conflict_id)
    return restored
