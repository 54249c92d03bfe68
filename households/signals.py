"""What households tell the apps above them. Sent with ``send`` (not ``send_robust``) inside
the membership's transaction: a receiver that fails rolls the membership change back."""

from django.dispatch import Signal

# A membership ended (the member left, was removed, or the household was deleted), after the
# membership row and the household group's membership are gone. Arguments: household, user.
membership_ended = Signal()
