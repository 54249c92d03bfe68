"""The bench's paired measurement (issue 15's price of an Idempotency-Key): the two
variants alternate in one sequence, and each keeps its own latencies."""

from bench import measure as bench_measure
from bench.floors import print_floors


class FakeClient:
    """Answers 201 and records, in one shared log, which variant was asked when."""

    def __init__(self, label: str, log: list[str]):
        self.label, self.log = label, log

    def request(self, method, path, body=None):
        self.log.append(self.label)
        return 201, b"{}", {"X-Query-Count": "7"}


def test_paired_requests_alternate_and_keep_their_own_latencies():
    log: list[str] = []
    result = bench_measure.measure(
        lambda: FakeClient("keyed", log),
        "POST",
        "/api/v1/transactions/",
        lambda i: {"n": i},
        requests=5,
        warmup=2,
        concurrency=1,
        paired_with=lambda: FakeClient("plain", log),
    )
    sequential = log[: 2 * (2 + 5)]
    assert sequential == ["keyed", "plain"] * 2 + ["plain", "keyed"] * 5
    assert len(result["latencies"]) == len(result["paired_latencies"]) == 5
    assert result["queries"] == 7


def test_an_unpaired_measurement_has_no_paired_latencies():
    result = bench_measure.measure(
        lambda: FakeClient("only", []), "POST", "/x/", lambda i: None, requests=3, warmup=0, concurrency=1
    )
    assert "paired_latencies" not in result
    assert "paired_p50" not in bench_measure.summarise([result])


def test_the_floors_print_the_keys_price_from_the_paired_p50s(capsys):
    rounds = [{"latencies": [5.0, 6.0, 7.0], "paired_latencies": [4.0, 4.5, 5.0], "rps": 100.0}]
    keyed = bench_measure.summarise(rounds)
    assert (keyed["p50"], keyed["paired_p50"]) == (6.0, 4.5)
    health = {"dataset": "1M", "endpoint": "f. health", "api": {"p50": 1.0}, "framework": {"p50": 0.5}}
    row = {"dataset": "1M", "endpoint": "e. create + Idempotency-Key", "api": keyed}
    floors = print_floors([health, row])
    assert floors["idempotency_key"] == {"p50_keyed": 6.0, "p50_without": 4.5, "cost": 1.5}
    assert "+1.50 ms" in capsys.readouterr().out
