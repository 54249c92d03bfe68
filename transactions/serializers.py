import datetime
import re

from rest_framework import serializers

from budgets.models import Budget, Category
from households.models import Household
from households.serializers import UserRefSerializer
from money.amounts import format_amount, parse_amount, parse_amount_fast
from money.currencies import minor_units
from money.fields import AmountField, MoneyInputField
from permissions.fields import PK_RANGE, ScopedPrimaryKeyRelatedField
from permissions.scoping import scoped_row
from server.fields import ChoiceField, StrictCharField, iso_datetime
from transactions.models import Kind, Transaction
from transactions.rows import PageRow
from transactions.splits.serializers import SplitInputSerializer, SplitSerializer, split_representation

TEXT_LIMITS = {"payee": 200, "description": 500, "notes": 2000}


class TransactionSerializer(serializers.ModelSerializer):
    budget = serializers.PrimaryKeyRelatedField(read_only=True)
    category = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    amount = AmountField(read_only=True, currency_from="budget.currency")
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    split = SplitSerializer(
        read_only=True,
        allow_null=True,
        help_text="Who paid and who it was for, among one household's members; null if not split.",
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "budget",
            "category",
            "kind",
            "amount",
            "date",
            "payee",
            "description",
            "notes",
            "split",
            "created_by",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def to_representation(self, tx):
        """DRF's field-by-field loop, unrolled: a list page serialises 50 transactions and
        the generic loop was the largest part of the request after the SQL. The declared
        fields still describe the schema; test_serializers.py checks this output against
        the generic one for every field."""
        if hasattr(tx, "budget_currency"):  # a PageRow (transactions/rows.py): a list page or a retrieve
            currency = tx.budget_currency
            recorder = (
                None if tx.created_by_id is None else {"id": tx.created_by_id, "email": tx.recorder_email}
            )
        else:
            currency = tx.budget.currency
            recorder = (
                None if tx.created_by is None else {"id": tx.created_by.pk, "email": tx.created_by.email}
            )
        return {
            "id": tx.pk,
            "budget": tx.budget_id,
            "category": tx.category_id,
            "kind": tx.kind,
            "amount": format_amount(tx.amount_minor, currency),
            "date": tx.date.isoformat(),
            "payee": tx.payee,
            "description": tx.description,
            "notes": tx.notes,
            "split": _split_of(tx, currency),
            "created_by": recorder,
            "created_at": iso_datetime(tx.created_at),
            "updated_at": iso_datetime(tx.updated_at),
            "version": tx.version,
        }


def _split_of(tx, currency: str) -> dict | None:
    """The split a page read with its rows (PageRow), or a detail read joined in
    (select_related("split"), its shares prefetched: the views); otherwise read now."""
    if isinstance(tx, PageRow):
        return None if tx.split is None else split_representation(tx.split, tx.split.shares, currency)
    try:
        split = tx.split
    except Transaction.split.RelatedObjectDoesNotExist:
        return None
    cache = getattr(split, "_prefetched_objects_cache", {})
    shares = cache["shares"] if "shares" in cache else split.shares.order_by("user_id")
    return split_representation(split, shares, currency)


class TransactionInputSerializer(serializers.Serializer):
    """Shape and per-field rules; the budget and category resolve only among rows the
    caller can see (a foreign id reads exactly like an unknown one)."""

    budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects)
    category = ScopedPrimaryKeyRelatedField(queryset=Category.objects, required=False, allow_null=True)
    kind = ChoiceField(choices=Kind.choices)
    # A decimal string, never a JSON number (the JSON parser would already have lost
    # precision); parse_amount() in validate() checks it against the budget's currency.
    amount = MoneyInputField()
    date = serializers.DateField()
    payee = StrictCharField(max_length=TEXT_LIMITS["payee"], required=False, allow_blank=True)
    description = StrictCharField(max_length=TEXT_LIMITS["description"], required=False, allow_blank=True)
    notes = StrictCharField(max_length=TEXT_LIMITS["notes"], required=False, allow_blank=True)
    split = SplitInputSerializer(
        required=False,
        allow_null=True,
        help_text="Share the cost among a household's members: who paid, and how it divides "
        "(equal, exact amounts, percent, weights). null removes the split.",
    )

    def validate(self, attrs):
        instance = self.instance
        budget = attrs.get("budget") or instance.budget
        for i, share in enumerate((attrs.get("split") or {}).get("shares", [])):
            if "amount" in share:  # exact mode: in the budget's currency
                try:
                    share["amount_minor"] = parse_amount(
                        share.pop("amount"), budget.currency, allow_zero=True
                    )
                except serializers.ValidationError as exc:
                    raise serializers.ValidationError(
                        {"split": {"shares": {str(i): {"amount": exc.detail}}}}
                    ) from None
        if "amount" in attrs:
            try:
                attrs["amount_minor"] = parse_amount(attrs.pop("amount"), budget.currency)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"amount": exc.detail}) from None
        elif (
            instance is not None
            and "budget" in attrs
            and attrs["budget"].currency != instance.budget.currency
        ):
            raise serializers.ValidationError(
                {"amount": ["Send the amount again: the new budget uses another currency."]}, code="required"
            )
        category = attrs["category"] if "category" in attrs else getattr(instance, "category", None)
        if category is not None and category.budget_id != budget.pk:
            raise serializers.ValidationError(
                {"category": ["This category belongs to another budget."]}, code="category_budget_mismatch"
            )
        return attrs


_KINDS = frozenset(Kind.values)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What DRF's CharField refuses in a string besides its length: NUL and lone surrogates.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def validated_items_fast(items: list, scoped_rows: dict) -> list[dict] | None:
    """What TransactionInputSerializer(data=items, many=True) validates ``items`` to, when
    every item is a plain one it certainly accepts (ids as integers among ``scoped_rows``,
    the context's preloaded rows; a kind, a plain decimal amount within the budget's places,
    an ISO date, text within its length and no split); None otherwise, and the serializer
    decides (and words every error). bulk/ with 1,000 items spent more in DRF's field-by-field
    validation than in its SQL; test_csv_fast_path.py holds the two to the same results."""
    budgets, categories = scoped_rows.get(Budget, {}), scoped_rows.get(Category, {})
    validated = []
    for item in items:
        if type(item) is not dict or item.get("split") is not None:
            return None
        budget_id, kind, amount, day = (
            item.get("budget"),
            item.get("kind"),
            item.get("amount"),
            item.get("date"),
        )
        if (
            type(budget_id) is not int
            or type(kind) is not str
            or type(amount) is not str
            or type(day) is not str
        ):
            return None
        budget = budgets.get(budget_id)
        if budget is None or kind not in _KINDS or not _ISO_DATE.fullmatch(day):
            return None
        minor = parse_amount_fast(amount, minor_units(budget.currency))
        if minor is None:
            return None
        try:
            date = datetime.date.fromisoformat(day)
        except ValueError:
            return None
        data = {"budget": budget, "kind": kind, "amount_minor": minor, "date": date}
        if "category" in item:
            category_id = item["category"]
            if category_id is None:
                data["category"] = None
            elif type(category_id) is int and category_id in categories:
                category = data["category"] = categories[category_id]
                if category.budget_id != budget.pk:
                    return None
            else:
                return None
        for name, limit in TEXT_LIMITS.items():
            if name in item:
                value = item[name]
                if type(value) is not str or len(value) > limit or _REFUSED_CHARACTERS.search(value):
                    return None
                data[name] = value.strip()
        if "split" in item:
            data["split"] = None
        validated.append(data)
    return validated


def budget_named_alone(data) -> int | None:
    """The budget id of a new transaction's body that names it as an integer and has no
    split (whose households are locked before its budget), or None."""
    if not isinstance(data, dict) or data.get("split") is not None:
        return None
    pk = data.get("budget")
    return pk if type(pk) is int and pk in PK_RANGE else None


def validated_new_transaction(data, context: dict, *, budgets: dict[int, Budget] | None = None) -> dict:
    """What TransactionInputSerializer(data=data, context=context) validates a new
    transaction's body to. The budget (and a category) named by integer ids are read as its
    fields read them (scoped_row, one query each), and a plain body is then checked by
    validated_items_fast, without DRF's field-by-field validation (about 0.5 ms of a 7 ms
    create); any other body goes to the serializer, with the rows already read, which
    decides and words every error. ``budgets``: the budget already read for the caller
    (by id; none if they cannot view it), for a body budget_named_alone reads."""
    scoped = {}
    if isinstance(data, dict):
        user = context["request"].user
        if budgets is not None:
            scoped[Budget] = budgets
        for model, name in ((Budget, "budget"), (Category, "category")):
            pk = data.get(name)
            if model not in scoped and type(pk) is int and pk in PK_RANGE:  # as the field reads it
                row = scoped_row(model, user, pk)
                scoped[model] = {pk: row} if row is not None else {}
        validated = validated_items_fast([data], scoped) if Budget in scoped else None
        if validated is not None:
            return validated[0]
    serializer = TransactionInputSerializer(data=data, context={**context, "scoped_rows": scoped})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField()
    budget = ScopedPrimaryKeyRelatedField(queryset=Budget.objects)
    dry_run = serializers.BooleanField(default=False)
    create_categories = serializers.BooleanField(default=False)
    household = ScopedPrimaryKeyRelatedField(
        queryset=Household.objects,
        required=False,
        allow_null=True,
        help_text="Yours: the household whose members the paid_by and split_with columns name.",
    )


class ImportSkipSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    reason = ChoiceField(choices=["duplicate_of_existing", "duplicate_in_file"])


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    skipped = ImportSkipSerializer(many=True)
    categories_created = serializers.ListField(child=serializers.CharField())
