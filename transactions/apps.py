from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    name = "transactions"

    def ready(self):
        from households.signals import household_deleting, membership_ending
        from transactions.splits.services import on_household_deleting, on_membership_ending

        # Shared costs not yet settled keep a member in (or the household alive), unless forced.
        membership_ending.connect(on_membership_ending, dispatch_uid="transactions.splits.membership_ending")
        household_deleting.connect(
            on_household_deleting, dispatch_uid="transactions.splits.household_deleting"
        )
