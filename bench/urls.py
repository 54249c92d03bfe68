from django.urls import path

from bench import views

urlpatterns = [
    path("transactions/", views.transactions),
    path("budgets/", views.budgets),
    path("budgets/<int:pk>/summary/", views.summary),
    path("transactions/create/", views.create_transaction),
]
