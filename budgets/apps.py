from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"

    def ready(self):
        from budgets.receivers import revoke_shares_when_membership_ends
        from households.signals import membership_ended

        membership_ended.connect(revoke_shares_when_membership_ends, dispatch_uid="budgets.revoke_shares")
