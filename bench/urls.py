from django.urls import path

from bench import views

urlpatterns = [
    path("bare/", views.bare),
    path("transactions/", views.transactions),
    path("transactions/<int:pk>/", views.transaction),
    path("budgets/", views.budgets),
    path("budgets/<int:pk>/summary/", views.summary),
    path("budgets/<int:pk>/report/", views.report),
    path("transactions/create/", views.create_transaction),
    path("households/<int:pk>/balances/", views.household_balances),
]
