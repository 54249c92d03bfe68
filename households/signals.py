"""What households tell the apps above them. Sent with ``send`` (not ``send_robust``) inside
the membership's transaction: a receiver that fails rolls the membership change back."""

from django.dispatch import Signal

# A membership ended (the member left, was removed, or the household was deleted), after the
# membership row and the household group's membership are gone. Arguments: household, user.
membership_ended = Signal()

# A membership is about to end (the member leaves, or is removed), under the household's lock
# and before anything is deleted. Arguments: household, user, actor, force (the owner's
# ?force=true on a removal). A receiver refuses by raising (a 409 with what blocks it), or,
# forced, first records what it must (transactions' splits: the balances written off).
membership_ending = Signal()

# A household is about to be deleted, under its lock. Arguments: household, force.
household_deleting = Signal()
