"""The staff grants API (views, serializers, permissions, urls); its reads are budgets.shares'."""
