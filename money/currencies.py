"""ISO 4217 active currency codes and their minor units (decimal places).

Amounts in a budget use its currency's minor units: EUR 2 ("12.30"), JPY 0 ("1500"),
BHD 3 ("1.250"). Codes without minor units (XAU, XDR, ...) are not money a household
budgets in and are refused.
"""

_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP "
    "GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD "
    "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP "
    "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT "
    "TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}

CURRENCY_CHOICES = sorted(MINOR_UNITS)


def minor_units(currency: str) -> int:
    return MINOR_UNITS[currency]


# Codes by exponent, in the order of their first code: two-place currencies first.
CURRENCIES_BY_EXPONENT: dict[int, tuple[str, ...]] = {}
for _code, _exponent in sorted(MINOR_UNITS.items()):
    CURRENCIES_BY_EXPONENT[_exponent] = (*CURRENCIES_BY_EXPONENT.get(_exponent, ()), _code)


def codes_sql(exponent: int) -> str:
    """The codes of an exponent as a parenthesised list of SQL literals, for SQL that names
    them as constants: PostgreSQL hashes a long IN list of constants (one probe per row),
    where the same list sent as parameters is, in a prepared statement's generic plan, an
    array built and searched on every row."""
    return f"({', '.join(_literal(code) for code in CURRENCIES_BY_EXPONENT[exponent])})"


def _literal(code: str) -> str:
    if not (len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()):
        raise ValueError(f"Not a currency code: {code!r}")
    return f"'{code}'"
